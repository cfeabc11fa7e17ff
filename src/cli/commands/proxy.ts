/**
 * `sluice proxy`: a built-in proxy on its own, in the foreground, for a data-plane host that the
 * control-plane replicas drive over its admin API (`router: { driver: builtin, proxy: { admin,
 * secret } }`, docs/routers.md). It runs src/proxy/main.ts as a child and passes SIGTERM/SIGINT
 * on; the proxy drains and exits, and this command exits with its code.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type CommandDef, parseDurationFlag, UsageError } from '../command.ts';

const PROXY_MAIN = fileURLToPath(new URL('../../proxy/main.ts', import.meta.url));
const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

function hostPort(flag: string, value: unknown, example: string): string {
  if (typeof value !== 'string') throw new UsageError(`--${flag} is required: host:port, e.g. ${example}`);
  const m = HOST_PORT.exec(value);
  if (m === null || Number(m[2]) > 65535)
    throw new UsageError(`--${flag} "${value}" is not host:port, e.g. ${example}`);
  return value;
}

export const proxyCommand: CommandDef = {
  name: 'proxy',
  summary: 'run a built-in proxy on this host, its admin API on --admin-listen for the replicas (router.proxy)',
  usage:
    'sluice proxy --listen HOST:PORT --admin-listen HOST:PORT --admin-secret-file PATH [--dir .sluice-proxy] [--workers 1|N|auto] [--upstream-timeout 60s]',
  options: {
    listen: { type: 'string' },
    'admin-listen': { type: 'string' },
    'admin-secret-file': { type: 'string' },
    dir: { type: 'string', default: '.sluice-proxy' },
    workers: { type: 'string' },
    'upstream-timeout': { type: 'string' },
  },
  async run({ values }) {
    const listen = hostPort('listen', values.listen, '0.0.0.0:8080 (where it serves the traffic)');
    const adminListen = hostPort(
      'admin-listen',
      values['admin-listen'],
      "10.0.0.5:7101 (an address the replicas reach; the spec's router.proxy.admin is http://10.0.0.5:7101)",
    );
    const secretFile = values['admin-secret-file'];
    if (typeof secretFile !== 'string')
      throw new UsageError(
        '--admin-secret-file is required: a file (mode 600) holding a random secret of at least 16 characters, e.g. `openssl rand -hex 32 > proxy.secret; chmod 600 proxy.secret`',
      );
    const args = [
      PROXY_MAIN,
      '--dir',
      String(values.dir),
      '--listen',
      listen,
      '--admin-listen',
      adminListen,
      '--admin-secret-file',
      secretFile,
    ];
    if (typeof values.workers === 'string') args.push('--workers', values.workers);
    if (typeof values['upstream-timeout'] === 'string')
      args.push('--upstream-timeout-ms', String(parseDurationFlag('upstream-timeout', values['upstream-timeout'])));
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    process.on('SIGTERM', forward('SIGTERM'));
    process.on('SIGINT', forward('SIGINT'));
    return new Promise<number>((resolve) => {
      child.once('error', (err) => {
        console.error(`sluice proxy: cannot start ${PROXY_MAIN}: ${err.message}`);
        resolve(1);
      });
      child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
    });
  },
};
