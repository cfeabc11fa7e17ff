/**
 * HAProxy's runtime API over its unix socket (or a TCP `host:port`, as a remote host exposes it with
 * `stats socket ipv4@…`): one command per connection (the answer ends when
 * HAProxy closes it), with a timeout, so a stuck or dead HAProxy never hangs a controller.
 */
import net from 'node:net';

const TIMEOUT_MS = 2000;

export function runtimeCommand(socketPath: string, command: string, timeoutMs = TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const tcp = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(socketPath);
    const socket =
      tcp === null
        ? net.connect(socketPath)
        : net.connect({ host: tcp[1]!.replace(/^\[|\]$/g, ''), port: Number(tcp[2]) });
    let out = '';
    const timer = setTimeout(
      () => socket.destroy(new Error(`no answer to "${command}" within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (out += chunk));
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(out);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(`HAProxy runtime API at ${socketPath}: ${err.code ?? err.message}`));
    });
    socket.write(`${command}\n`);
  });
}

/** One server of a backend as `show servers state` reports it. */
export interface ServerState {
  name: string;
  addr: string;
  port: number;
  /** User weight (what `set server … weight` sets), 0..256. */
  weight: number;
  /** In maintenance (admin state has the forced- or config-maint bit and the server is stopped). */
  maint: boolean;
}

/** Parses `show servers state [backend]` into servers by backend; throws with HAProxy's answer when it is not that table. */
export function parseServersState(text: string): Map<string, ServerState[]> {
  const lines = text.split('\n');
  const header = lines.findIndex((l) => l.startsWith('# be_id'));
  if (header < 0) throw new Error(text.trim() || 'empty answer to show servers state');
  const names = lines[header]!.slice(2).split(' ');
  const col = (n: string) => names.indexOf(n);
  const out = new Map<string, ServerState[]>();
  for (const line of lines.slice(header + 1)) {
    if (line.trim() === '') continue;
    const f = line.split(' ');
    const opState = Number(f[col('srv_op_state')]);
    const adminState = Number(f[col('srv_admin_state')]);
    const backend = f[col('be_name')]!;
    const list = out.get(backend) ?? [];
    out.set(backend, list);
    list.push({
      name: f[col('srv_name')]!,
      addr: f[col('srv_addr')]!,
      port: Number(f[col('srv_port')]),
      weight: Number(f[col('srv_uweight')]),
      // op state 0 = stopped; admin bits 0x1 forced maint, 0x2 inherited maint.
      maint: (adminState & 0x3) !== 0 || opState === 0,
    });
  }
  return out;
}

/** Servers by backend: of one backend, or of all when none is named. */
export async function serversState(socketPath: string, backend?: string): Promise<Map<string, ServerState[]>> {
  const text = await runtimeCommand(
    socketPath,
    backend === undefined ? 'show servers state' : `show servers state ${backend}`,
  );
  try {
    return parseServersState(text);
  } catch (err) {
    throw new Error(
      `HAProxy at ${socketPath}${backend === undefined ? '' : `, backend "${backend}"`}: ${(err as Error).message}`,
    );
  }
}

/** Current sessions per backend/server, from `show stat` (CSV). */
export async function currentSessions(socketPath: string): Promise<Map<string, number>> {
  return serverStat(socketPath, 'scur');
}

/** One `show stat` column (scur, stot, econ …) per backend/server. */
export async function serverStat(socketPath: string, column: string): Promise<Map<string, number>> {
  const text = await runtimeCommand(socketPath, 'show stat');
  const lines = text.split('\n');
  const names = (lines[0] ?? '').replace(/^# /, '').split(',');
  const px = names.indexOf('pxname');
  const sv = names.indexOf('svname');
  const col = names.indexOf(column);
  const out = new Map<string, number>();
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    if (f[px] === undefined || f[sv] === undefined || f[sv] === 'BACKEND' || f[sv] === 'FRONTEND') continue;
    out.set(`${f[px]}/${f[sv]}`, Number(f[col] ?? 0));
  }
  return out;
}

/** Map entries (key → value) of a map file loaded by HAProxy. */
export async function showMap(socketPath: string, file: string): Promise<Map<string, string>> {
  const text = await runtimeCommand(socketPath, `show map ${file}`);
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^0x[0-9a-f]+ (\S+) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
    else if (line.trim() !== '') throw new Error(`HAProxy map ${file}: ${line.trim()}`);
  }
  return out;
}
