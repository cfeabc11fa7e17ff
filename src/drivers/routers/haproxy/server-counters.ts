/**
 * HAProxy's own per-server counters, from `show stat` (CSV, cumulative since the worker started;
 * a reload starts them again). What each column means, measured against HAProxy 2.6 with
 * `retries 2` and `option redispatch 1` (docs/access-log.md):
 * - `req_tot` counts the requests sent to the server, `econ` those whose last connection attempt
 *   failed there: their sum is the access-log lines naming the server;
 * - `wretr` / `wredis` count attempts that failed there and were retried (on the same server / on
 *   another one): nobody logs those, the line names the server that answered;
 * - `stot` counts every attempt, failed ones included, so it is not a request count.
 */
import { runtimeCommand } from './runtime-api.ts';

export interface ServerCounters {
  /** Requests sent to the server (`req_tot`). */
  requests: number;
  /** Requests whose last connection attempt failed on this server (`econ`). */
  connectErrors: number;
  /** Requests it gave no whole answer to: timeout, reset, cut mid-body (`eresp`). */
  responseErrors: number;
  /** Attempts that failed here and were tried again, here or elsewhere (`wretr` + `wredis`). */
  retriedAttempts: number;
  /** Responses it sent, by status class (`hrsp_1xx` … `hrsp_5xx`, `hrsp_other`). */
  responses: { '1xx': number; '2xx': number; '3xx': number; '4xx': number; '5xx': number; other: number };
  /** Requests in flight now (`scur`). */
  inFlight: number;
  /** Averages over its last 1024 requests, ms (`qtime`, `ctime`, `rtime`, `ttime`). */
  queueMs: number;
  connectMs: number;
  responseMs: number;
  totalMs: number;
}

/** Parses `show stat` into the counters of every server, by `backend/server`; throws on an answer that is not the CSV. */
export function parseServerCounters(text: string): Map<string, ServerCounters> {
  const lines = text.split('\n');
  if (!(lines[0] ?? '').startsWith('# pxname,')) throw new Error(text.trim() || 'empty answer to show stat');
  const names = lines[0]!.slice(2).split(',');
  const out = new Map<string, ServerCounters>();
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    const at = (column: string) => {
      const v = Number(f[names.indexOf(column)] ?? '');
      return Number.isFinite(v) ? v : 0;
    };
    const [px, sv] = [f[names.indexOf('pxname')], f[names.indexOf('svname')]];
    if (px === undefined || sv === undefined || sv === '' || sv === 'BACKEND' || sv === 'FRONTEND') continue;
    out.set(`${px}/${sv}`, {
      requests: at('req_tot'),
      connectErrors: at('econ'),
      responseErrors: at('eresp'),
      retriedAttempts: at('wretr') + at('wredis'),
      responses: {
        '1xx': at('hrsp_1xx'),
        '2xx': at('hrsp_2xx'),
        '3xx': at('hrsp_3xx'),
        '4xx': at('hrsp_4xx'),
        '5xx': at('hrsp_5xx'),
        other: at('hrsp_other'),
      },
      inFlight: at('scur'),
      queueMs: at('qtime'),
      connectMs: at('ctime'),
      responseMs: at('rtime'),
      totalMs: at('ttime'),
    });
  }
  return out;
}

export async function serverCounters(socketPath: string, timeoutMs?: number): Promise<Map<string, ServerCounters>> {
  return parseServerCounters(await runtimeCommand(socketPath, 'show stat', timeoutMs));
}

/** When the worker answering on the socket started, in whole seconds since the epoch (`Start_time_sec` of `show info`). */
export async function workerStartSec(socketPath: string, timeoutMs?: number): Promise<number> {
  const text = await runtimeCommand(socketPath, 'show info', timeoutMs);
  const m = /^Start_time_sec: (\d+)$/m.exec(text);
  if (m === null) throw new Error(`no Start_time_sec in the answer to show info: ${text.trim().slice(0, 200)}`);
  return Number(m[1]);
}
