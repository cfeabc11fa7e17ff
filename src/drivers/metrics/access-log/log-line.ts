/**
 * One access-log datagram as a request: which router instance sent it, which upstream answered,
 * how (a status, or `connect` when no answer came) and how long the upstream took. Pure; anything
 * it cannot read (garbage, a truncated line, an unknown format) is null, and counted by the caller.
 * The formats are described in ../../access-log.ts.
 */
import { LINE_TAG, normalAddress } from '../../access-log.ts';
import type { Answer } from '../../../core/analysis/backend-metrics.ts';

export type LogLine =
  | { source: string; upstream: string; answer: Exclude<Answer, null>; latencyMs: number }
  /** No upstream was involved (the router's heartbeat, or a request it answered itself). */
  | { source: string; upstream: null };

const TOKEN = /^[A-Za-z0-9.:_-]+$/;
const INT = /^-?\d+$/;

/** The last entry of an NGINX list (`a, b : c`): the upstream that answered last. */
const lastOf = (list: string) => list.split(/, | : /).at(-1)!;

function haproxy(source: string, f: string[]): LogLine | null {
  if (f.length !== 5 && f.length !== 6) return null;
  const [server, status, tc, tr, td, fault = '-'] = f as [string, string, string, string, string, string?];
  if (![status, tc, tr, td].every((x) => INT.test(x))) return null;
  if (fault !== '-' && fault !== 'connect' && !/^\d{3}$/.test(fault)) return null;
  const upstream = normalAddress(server);
  if (upstream === null) return server.startsWith('-') || server.startsWith('<') ? { source, upstream: null } : null;
  const [Tc, Tr, Td] = [Number(tc), Number(tr), Number(td)];
  // Tr is -1 when the server sent no (complete) response headers: a refused, reset or timed-out answer;
  // or when a drill's fault answered in its place (its status, or `connect` for a reset, is the last field).
  const answer = fault === 'connect' ? 'connect' : fault !== '-' ? Number(fault) : Tr < 0 ? 'connect' : Number(status);
  return { source, upstream, answer, latencyMs: Math.max(0, Tc) + Math.max(0, Tr) + Math.max(0, Td) };
}

function nginx(source: string, f: string[]): LogLine | null {
  // Lists hold ", " and " : ": rejoin and split the four fields on the spaces between them.
  const m = /^(\S+(?:(?:, | : )\S+)*) (\S+(?:(?:, | : )\S+)*) (\S+(?:(?:, | : )\S+)*) (\d{3})$/.exec(f.join(' '));
  if (m === null) return null;
  const [, addrs, statuses, times] = m as unknown as [string, string, string, string, string];
  if (addrs === '-') return { source, upstream: null };
  const upstream = normalAddress(lastOf(addrs));
  if (upstream === null) return null;
  const last = lastOf(statuses);
  let latencyMs = 0;
  for (const t of times.split(/, | : /)) {
    if (t === '-') continue;
    const s = Number(t);
    if (!Number.isFinite(s) || s < 0) return null;
    latencyMs += s * 1000;
  }
  if (last !== '-' && !/^\d{3}$/.test(last)) return null;
  return { source, upstream, answer: last === '-' ? 'connect' : Number(last), latencyMs };
}

export function parseLogLine(datagram: string): LogLine | null {
  const at = datagram.indexOf(`${LINE_TAG} `);
  if (at < 0) return null;
  const fields = datagram.slice(at).trimEnd().split(' ');
  const [, format, source, ...rest] = fields;
  if (source === undefined || !TOKEN.test(source)) return null;
  if (format === 'h') return haproxy(source, rest);
  if (format === 'n') return nginx(source, rest);
  return null;
}
