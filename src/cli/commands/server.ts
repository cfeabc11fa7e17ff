import { delimiter, dirname } from 'node:path';
import type { CommandDef } from '../command.ts';
import { UsageError } from '../command.ts';

export const serverCommand: CommandDef = {
  name: 'server',
  summary: 'run the control plane, API and built-in data plane in the foreground',
  usage: 'sluice server [--data-dir DIR] [--port 7070] [--host 127.0.0.1]',
  options: {
    'data-dir': { type: 'string', default: '.sluice' },
    port: { type: 'string', default: '7070' },
    host: { type: 'string', default: '127.0.0.1' },
  },
  async run({ values }) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port "${values.port}" is not a port number (0-65535)`);
    // `node` in a target command means the Node running Sluice (the pinned Node 24), not an older one on PATH.
    process.env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`;
    const { startServer } = await import('../../api/server.ts');
    const server = await startServer({ dataDir: String(values['data-dir']), host: String(values.host), port });
    console.error(`sluice server listening on ${server.url} (data dir ${values['data-dir']}); Ctrl-C stops the control plane, traffic keeps flowing`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    return 0;
  },
};
