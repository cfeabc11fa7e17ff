/**
 * The access-log stream shared by the routers that write it (haproxy, nginx) and the metrics
 * provider that reads it (`access-log`): the one-line-per-request formats, the heartbeat path a
 * router answers itself (so a silent stream can be told from an idle service), and the file in
 * which a router says where its lines come from and which upstream address serves which revision
 * (`<serviceDir>/router/log-stream.json`, rewritten on every apply).
 *
 * A line is `sluice1 <format> <source> <fields…>`, found anywhere in a syslog datagram (after an
 * RFC 3164 header, or raw):
 * - format `h` (HAProxy): `<server ip:port> <status> <Tc> <Tr> <Td> [<fault>]`, times in ms, -1 when absent;
 *   `<fault>` is the status a drill's fault answered instead of the server, or `connect` for a reset fault (`-` when none; absent
 *   in lines of configs written before faults);
 * - format `n` (NGINX): `<upstream_addr> <upstream_status> <upstream_response_time> <status>`,
 *   each list as NGINX writes it (`a, b : c` when it tried several upstreams), times in seconds.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const LINE_TAG = 'sluice1';
/** Answered by the router itself (204) and logged without an upstream: proves the stream is alive. */
export const HEARTBEAT_PATH = '/.sluice/log-heartbeat';

/** HAProxy's `log-format` for one router instance (`source` names it in the lines). */
export const haproxyLogFormat = (source: string) =>
  `${LINE_TAG} h ${source} %si:%sp %ST %Tc %Tr %Td %[var(txn.sluice_fault_status)]`;
/** NGINX's `log_format` body for one router instance. */
export const nginxLogFormat = (source: string) =>
  `${LINE_TAG} n ${source} $upstream_addr $upstream_status $upstream_response_time $status`;

/** What a router instance tells the provider about its stream. */
export interface LogSource {
  /** The token the instance writes in its lines. */
  source: string;
  /** Where the provider sends heartbeats (the router's own listener). */
  heartbeatUrl: string;
  /** The instance's HAProxy runtime API socket, for the per-server cross-check (HAProxy only). */
  adminSocket?: string;
}

export interface LogStreamFile {
  sources: LogSource[];
  /** Upstream `ip:port` → revision key, for every endpoint of the last applied table. */
  upstreams: Record<string, string>;
  /** HAProxy only: `backend/server` → `ip:port` (every source's config has the same slots), to match runtime API counters to upstreams. */
  servers?: Record<string, string>;
}

export const logStreamPath = (serviceDir: string) => join(serviceDir, 'router', 'log-stream.json');

/** An endpoint URL as `ip:port` (IPv6 without brackets), the key lines are matched on. */
export function upstreamAddress(url: string): string {
  const u = new URL(url);
  const port = u.port === '' ? (u.protocol === 'https:' ? '443' : '80') : u.port;
  return `${u.hostname.replace(/^\[|\]$/g, '')}:${port}`;
}

/** A logged upstream (`127.0.0.1:8080`, `[::1]:8080`, `::1:8080`) as `ip:port`, or null when it names none. */
export function normalAddress(logged: string): string | null {
  const i = logged.lastIndexOf(':');
  if (i <= 0 || !/^\d{1,5}$/.test(logged.slice(i + 1))) return null;
  return `${logged.slice(0, i).replace(/^\[|\]$/g, '')}:${logged.slice(i + 1)}`;
}

/** The table's endpoints by upstream address (a later backend wins a shared address). */
export function upstreamsOf(
  backends: ReadonlyArray<{ key: string; endpoints: readonly string[] }>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const b of backends) for (const url of b.endpoints) out[upstreamAddress(url)] = b.key;
  return out;
}

/** The heartbeat URL for a router listening on `listen` (a wildcard host is reached on loopback). */
export function heartbeatUrl(listen: string): string {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i);
  const reach = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host;
  return `http://${reach}:${listen.slice(i + 1)}${HEARTBEAT_PATH}`;
}

/** A token safe in a log line: the listen address with anything but [A-Za-z0-9.:_-] replaced. */
export const sourceName = (text: string) => text.replace(/[^A-Za-z0-9.:_-]/g, '_');

export async function writeLogStream(serviceDir: string, stream: LogStreamFile): Promise<void> {
  const path = logStreamPath(serviceDir);
  await mkdir(join(serviceDir, 'router'), { recursive: true });
  await writeFile(`${path}.${process.pid}.tmp`, `${JSON.stringify(stream, null, 2)}\n`);
  await rename(`${path}.${process.pid}.tmp`, path);
}

/** The router's stream description, or null when no router wrote one (yet). */
export async function readLogStream(serviceDir: string): Promise<LogStreamFile | null> {
  const path = logStreamPath(serviceDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  const parsed = JSON.parse(text) as Partial<LogStreamFile>;
  if (!Array.isArray(parsed.sources) || typeof parsed.upstreams !== 'object' || parsed.upstreams === null) {
    throw new Error(`${path} is not a log stream description (sources, upstreams)`);
  }
  return parsed as LogStreamFile;
}
