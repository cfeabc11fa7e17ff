import { delimiter, dirname } from 'node:path';
import type { CommandDef } from '../command.ts';
import { UsageError } from '../command.ts';

export const serverCommand: CommandDef = {
  name: 'server',
  summary: 'run the control plane, API and built-in data plane in the foreground',
  usage:
    'sluice server [--data-dir DIR] [--port 7070] [--host 127.0.0.1] [--store postgres://USER@HOST:PORT/DB --replica-id ID]',
  options: {
    store: { type: 'string' },
    'replica-id': { type: 'string' },
    'data-dir': { type: 'string', default: '.sluice' },
    port: { type: 'string', default: '7070' },
    host: { type: 'string', default: '127.0.0.1' },
  },
  async run({ values }) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port "${values.port}" is not a port number (0-65535)`);
    const store = values.store as string | undefined;
    const replicaId = values['replica-id'] as string | undefined;
    if (store !== undefined && !/^postgres(ql)?:\/\//.test(store))
      throw new UsageError(
        `--store "${store.replace(/:[^:@/]*@/, ':***@')}" is not a PostgreSQL URL; write postgres://USER@HOST:PORT/DB (without --store, the data dir's SQLite file is the store)`,
      );
    if (store !== undefined && replicaId === undefined)
      throw new UsageError(
        '--store needs --replica-id ID: each replica on a shared store has its own id (e.g. the host name)',
      );
    if (replicaId !== undefined && store === undefined)
      throw new UsageError('--replica-id is for replicas on a shared store: give --store postgres://… too');
    if (replicaId !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(replicaId))
      throw new UsageError(
        `--replica-id "${replicaId}" is not an id: letters, digits, '.', '_', '-', at most 63, starting with a letter or digit`,
      );
    // `node` in a target command means the Node running Sluice (the pinned Node 24), not an older one on PATH.
    process.env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`;
    const { startServer } = await import('../../api/server.ts');
    const server = await startServer({
      dataDir: String(values['data-dir']),
      host: String(values.host),
      port,
      ...(store !== undefined && { store }),
      ...(replicaId !== undefined && { replicaId }),
    });
    console.error(
      `sluice server listening on ${server.url} (data dir ${values['data-dir']}); Ctrl-C stops the control plane, traffic keeps flowing`,
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    return 0;
  },
};
