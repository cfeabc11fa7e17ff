/**
 * The admin API on 127.0.0.1, used by the router and metrics drivers. Every call carries
 * `Authorization: Bearer <secret>` (see main.ts); any other is answered 401.
 *   GET /healthz               → { ok, pid, startedAt, auth: 'bearer', workers, listen }
 *   GET /routes                → the current table, 404 when there is none
 *   PUT /routes                → validate, persist, apply → { ok: true, appliedAt }; 400 on a bad table
 *   GET /metrics?window=<ms>   → per backend key: figures over the window (by status too), in-flight, totals
 *   GET /metrics/watch?key=<key>&seen=<n>[&startedAt=<ms>][&timeout=<ms>]
 *                              → long poll: { key, bad, woke, startedAt, now } once the key's bad
 *                                answers (status ≥ 400, or none) number more than `seen`, or at the timeout
 *   GET|PUT|DELETE /faults     → drills' faults (fault-admin.ts)
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { type BackendWindow, RETENTION_MS } from '../core/analysis/backend-metrics.ts';
import { type BadCount, BadAnswerWatchers, DEFAULT_WATCH_MS, MAX_WATCH_MS } from './bad-answer-watch.ts';
import type { FaultBook } from './fault-book.ts';
import type { RouteTable } from '../core/route-table.ts';
import { validateTable } from './table.ts';
import { SerialQueue } from '../core/serial-queue.ts';
import type { FlagAdmin } from './flag-admin.ts';
import { faultRoute } from './fault-admin.ts';
import { type RouteWrite, routeWrite } from './route-log.ts';

const MAX_TABLE_BYTES = 1 << 20;

/**
 * What the admin API serves: one process's DataPlane, or the primary's view of its workers
 * (worker-plane.ts), where `apply` resolves once every worker serves the table and `metrics` sums
 * the workers' counters.
 */
export interface ServedPlane {
  table(): RouteTable | null;
  /** Resolves once the table is served (by every worker); the figure is how long the workers took, if any. */
  apply(table: RouteTable): void | Promise<number | void>;
  metrics(now: number, windowMs: number): Record<string, BackendWindow> | Promise<Record<string, BackendWindow>>;
  metricsOf(key: string): BadCount;
  readonly faults: FaultBook;
  /** Worker processes serving traffic (1: this process). */
  readonly workers: number;
}

export interface AdminDeps {
  plane: ServedPlane;
  /** Writes the table to disk; resolves once it is durable. */
  persist: (table: RouteTable) => Promise<void>;
  startedAt: number;
  now: () => number;
  /** The bearer secret every call must carry. */
  secret: string;
  /** Flags at the edge: PUT|GET /flags, GET /flags/metrics (flag-admin.ts). */
  flags?: FlagAdmin;
  /** The router's write log (route-log.ts): every table decided, accepted or refused, in order. */
  record?: (write: RouteWrite) => Promise<void>;
  /** The traffic address bound (host:port), once it is; a router attached to this proxy checks it. */
  listen?: () => string | null;
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** True when the request carries `Authorization: Bearer <secret>` (compared in constant time). */
export function authorised(req: IncomingMessage, secret: string): boolean {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  return timingSafeEqual(digest(header.slice('Bearer '.length).trim()), digest(secret));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_TABLE_BYTES) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * The watch's parameters, or the error to answer with. A `seen` counted on another start of the
 * proxy (`startedAt` is not this one's) counts as 0: the counters began again since.
 */
function watchQuery(q: URLSearchParams, startedAt: number): { key: string; seen: number; timeoutMs: number } | string {
  const key = q.get('key');
  if (key === null || key === '')
    return 'key is required: GET /metrics/watch?key=<backend key>&seen=<bad answers seen>';
  const whole = (name: string, fallback: number, max: number): number | string => {
    const raw = q.get(name);
    if (raw === null) return fallback;
    const n = Number(raw);
    return raw !== '' && Number.isInteger(n) && n >= 0 && n <= max
      ? n
      : `${name} must be a whole number from 0 to ${max}, got "${raw}"`;
  };
  const seen = whole('seen', 0, Number.MAX_SAFE_INTEGER);
  const timeoutMs = whole('timeout', DEFAULT_WATCH_MS, MAX_WATCH_MS);
  const since = whole('startedAt', startedAt, Number.MAX_SAFE_INTEGER);
  if (typeof seen === 'string') return seen;
  if (typeof timeoutMs === 'string') return timeoutMs;
  if (typeof since === 'string') return since;
  return { key, seen: since === startedAt ? seen : 0, timeoutMs };
}

class StaleEpoch extends Error {
  constructor(epoch: number, current: number) {
    super(
      `stale epoch: the table was set under lease epoch ${epoch}, but epoch ${current} set the one in force; refused`,
    );
  }
}

export function createAdminHandler(deps: AdminDeps): RequestListener {
  const { plane, persist, startedAt, now } = deps;
  // Tables are persisted and applied one at a time, so routes.json always matches the last apply.
  const queue = new SerialQueue();
  const watchers = new BadAnswerWatchers();
  // The write log is a record, never a gate: a failed append is said on stderr and the table stands.
  const record = async (write: RouteWrite): Promise<void> => {
    try {
      await deps.record?.(write);
    } catch (err) {
      process.stderr.write(`sluice proxy: could not append to the route write log: ${(err as Error).message}\n`);
    }
  };

  async function putRoutes(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    if (text === null) return send(res, 413, { error: `route table larger than ${MAX_TABLE_BYTES} bytes` });
    let input: unknown;
    try {
      input = JSON.parse(text);
    } catch (err) {
      return send(res, 400, { error: `route table is not valid JSON: ${(err as Error).message}` });
    }
    const check = validateTable(input);
    if (!check.ok) return send(res, 400, { error: `invalid route table: ${check.message}` });
    const applied = queue.run(async () => {
      // Fencing: a table set under a lower lease epoch than the one in force comes from a replica
      // that lost its lease (paused, partitioned) and woke up late: refused, never applied.
      const current = plane.table()?.epoch;
      const epoch = check.table.epoch;
      if (epoch !== undefined && current !== undefined && epoch < current) {
        const stale = new StaleEpoch(epoch, current);
        await record(routeWrite(check.table, now(), stale.message));
        throw stale;
      }
      await persist(check.table);
      const workersMs = await plane.apply(check.table);
      const at = now();
      await record(routeWrite(check.table, at));
      return { appliedAt: at, workersMs };
    });
    try {
      const { appliedAt, workersMs } = await applied;
      // workersMs: from sending the table to the last worker's confirmation (multi-worker proxies only).
      send(res, 200, {
        ok: true,
        appliedAt,
        ...(typeof workersMs === 'number' && { workers: plane.workers, workersMs }),
      });
    } catch (err) {
      if (err instanceof StaleEpoch) send(res, 409, { error: err.message });
      else send(res, 500, { error: `could not persist the route table: ${(err as Error).message}` });
    }
  }

  async function getMetrics(url: URL, res: ServerResponse): Promise<void> {
    const raw = url.searchParams.get('window') ?? '60000';
    const windowMs = Number(raw);
    if (!Number.isFinite(windowMs) || windowMs <= 0) {
      return send(res, 400, { error: `window must be a positive number of milliseconds, got "${raw}"` });
    }
    const at = now();
    const effective = Math.min(windowMs, RETENTION_MS);
    send(res, 200, { now: at, startedAt, windowMs: effective, backends: await plane.metrics(at, effective) });
  }

  function watchMetrics(url: URL, res: ServerResponse): void {
    const q = watchQuery(url.searchParams, startedAt);
    if (typeof q === 'string') return send(res, 400, { error: q });
    const metrics = plane.metricsOf(q.key);
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const waiting = watchers.wait(metrics, q.seen, q.timeoutMs, gone.signal);
    if (waiting === null) return send(res, 429, { error: `${watchers.max} watchers wait already; retry later` });
    void waiting.then((woke) => {
      if (!res.destroyed && !res.writableEnded)
        send(res, 200, { key: q.key, bad: metrics.totalBad, woke, startedAt, now: now() });
    });
  }

  return (req, res) => {
    if (!authorised(req, deps.secret)) {
      req.resume();
      res.setHeader('www-authenticate', 'Bearer');
      return send(res, 401, {
        error:
          'the admin API needs Authorization: Bearer <secret>, the secret in the file given to --admin-secret-file',
      });
    }
    const url = new URL(req.url ?? '/', 'http://admin');
    const route = `${req.method} ${url.pathname}`;
    if (deps.flags?.(route, req, res) === true) return;
    // A drill's metricsOutage fault: the metrics backend is down (fault-book.ts).
    if (url.pathname.startsWith('/metrics') && plane.faults.size > 0 && plane.faults.metricsDown(now()))
      return send(res, 503, { error: 'the metrics API is down: a drill injected an outage' });
    switch (route) {
      case 'GET /healthz':
        return send(res, 200, {
          ok: true,
          pid: process.pid,
          startedAt,
          auth: 'bearer',
          workers: plane.workers,
          listen: deps.listen?.() ?? null,
        });
      case 'GET /routes': {
        const table = plane.table();
        return table === null ? send(res, 404, { error: 'no route table yet' }) : send(res, 200, table);
      }
      case 'PUT /routes':
        putRoutes(req, res).catch((err: Error) => send(res, 500, { error: err.message }));
        return;
      case 'GET /metrics':
        getMetrics(url, res).catch((err: Error) => send(res, 500, { error: err.message }));
        return;
      case 'GET /metrics/watch':
        return watchMetrics(url, res);
      case 'GET /faults':
      case 'PUT /faults':
      case 'DELETE /faults':
        faultRoute(plane.faults, req.method!, url, () => readBody(req), now).then(
          (r) => send(res, r.status, r.body),
          (err: Error) => send(res, 500, { error: err.message }),
        );
        return;
      default:
        return send(res, 404, {
          error: `no such admin route: ${route}; see GET /healthz, GET|PUT /routes, GET /metrics, GET /metrics/watch, GET|PUT|DELETE /faults`,
        });
    }
  };
}
