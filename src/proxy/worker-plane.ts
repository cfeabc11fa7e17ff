/**
 * The primary of a multi-worker proxy (`--workers N`, N > 1): it forks N workers (worker.ts) with
 * node:cluster, which share the one listen socket (the primary accepts and hands connections out
 * round-robin), and serves the admin API over them. A table, flag config or fault goes to every
 * worker; `apply` resolves once every worker confirms it serves the table, so a rollback's
 * confirmation means every worker routes to stable. Reads sum the workers' counters
 * (merged-counts.ts). A worker that dies is forked again with the state in force.
 */
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { BackendWindow } from '../core/analysis/backend-metrics.ts';
import type { FaultRule } from '../core/drills/fault.ts';
import type { RouteTable } from '../core/route-table.ts';
import type { ServedPlane } from './admin.ts';
import { FaultBook } from './fault-book.ts';
import { type FlagCounts, FlagPlane, type FlagPlaneConfig } from './flag-plane.ts';
import { MergedBadCount, addTotal, sumFlagCounts, sumWindows } from './merged-counts.ts';
import { DRAIN_MS } from './traffic.ts';
import type { FromWorker, ToWorker } from './worker-messages.ts';

const WORKER_MAIN = fileURLToPath(new URL('worker.ts', import.meta.url));
/** A worker that does not confirm a table or answer a read within this is killed (and forked again). */
const ANSWER_MS = 5000;
/** More deaths than this within DEATH_WINDOW_MS: the primary gives up (exit 1; the router driver restarts it). */
const MAX_DEATHS = 5;
const DEATH_WINDOW_MS = 10_000;

interface Pending {
  worker: number;
  /** The worker's answer, or 'gone' when it exited first. */
  resolve: (m: FromWorker | 'gone') => void;
}

export interface WorkerPlaneOptions {
  workers: number;
  host: string;
  port: number;
  upstreamTimeoutMs: number;
  /** A worker could not listen, or workers die too often: the proxy cannot serve. */
  onFatal: (message: string) => void;
}

/** Faults held by the primary (for GET /faults and the metrics outage) and sent to every worker. */
class SharedFaultBook extends FaultBook {
  readonly #broadcast: (m: ToWorker) => void;

  constructor(broadcast: (m: ToWorker) => void) {
    super();
    this.#broadcast = broadcast;
  }

  override set(rules: readonly FaultRule[], now: number): ReturnType<FaultBook['set']> {
    const out = super.set(rules, now);
    this.#broadcast({ t: 'faults.set', rules: [...rules], now });
    return out;
  }

  override clear(ids: readonly string[] | undefined): ReturnType<FaultBook['clear']> {
    const out = super.clear(ids);
    this.#broadcast({ t: 'faults.clear', ids: ids === undefined ? undefined : [...ids] });
    return out;
  }
}

/** The flag config in force, held by the primary (GET /flags) and sent to every worker. */
export class SharedFlagPlane extends FlagPlane {
  readonly #broadcast: (m: ToWorker) => void;

  constructor(broadcast: (m: ToWorker) => void) {
    super();
    this.#broadcast = broadcast;
  }

  override apply(config: FlagPlaneConfig): void {
    super.apply(config);
    this.#broadcast({ t: 'flags', config });
  }
}

export class WorkerPlane implements ServedPlane {
  readonly workers: number;
  readonly faults: SharedFaultBook;
  readonly flags: SharedFlagPlane;
  private current: RouteTable | null = null;
  private readonly live = new Map<number, Worker>();
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private readonly bad = new Map<string, MergedBadCount>();
  /** Each worker's last metrics answer, so its totals outlive it. */
  private readonly lastSeen = new Map<number, Record<string, BackendWindow>>();
  private readonly retiredTotals = new Map<string, BackendWindow['total']>();
  private deaths: number[] = [];
  private stopping = false;
  private readonly options: WorkerPlaneOptions;

  constructor(options: WorkerPlaneOptions) {
    this.options = options;
    this.workers = options.workers;
    const broadcast = (m: ToWorker): void => {
      for (const w of this.live.values()) w.send(m);
    };
    this.faults = new SharedFaultBook(broadcast);
    this.flags = new SharedFlagPlane(broadcast);
    cluster.setupPrimary({
      exec: WORKER_MAIN,
      args: [
        '--listen-host',
        options.host,
        '--listen-port',
        String(options.port),
        '--upstream-timeout-ms',
        String(options.upstreamTimeoutMs),
      ],
      // The workers' output goes where the primary's goes (proxy.log).
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }

  /** Forks the workers; resolves once every one listens. The table and flags given are served from the start. */
  start(table: RouteTable | null, flags: FlagPlaneConfig | null): Promise<number> {
    this.current = table;
    if (flags !== null) this.flags.apply(flags);
    return new Promise((resolve, reject) => {
      let listening = 0;
      for (let i = 0; i < this.workers; i++)
        this.fork((port, error) => {
          if (port === null) return reject(Object.assign(new Error(error), { code: error }));
          if (++listening === this.workers) resolve(port);
        });
    });
  }

  private fork(onListening?: (port: number | null, error?: string) => void): void {
    const worker = cluster.fork();
    const id = worker.id;
    worker.on('message', (m: FromWorker) => {
      if (m.t !== 'ready') return;
      // From here on every change reaches this worker after the state it starts with.
      this.live.set(id, worker);
      const now = Date.now();
      worker.send({
        t: 'init',
        table: this.current,
        flags: this.flags.config(),
        faults: this.faults.rules(now),
        now,
      } satisfies ToWorker);
    });
    worker.on('message', (m: FromWorker) => {
      switch (m.t) {
        case 'ready':
          return;
        case 'listening':
          return onListening?.(m.port);
        case 'listenError':
          return onListening?.(null, m.code || m.message);
        case 'bad':
          for (const [key, total] of Object.entries(m.totals)) this.metricsOf(key).report(id, total);
          return;
        case 'hits':
          for (const [fault, h] of Object.entries(m.hits)) this.faults.addHits(fault, h.n, h.first, h.last);
          return;
        default: {
          const p = this.pending.get(m.seq);
          if (p !== undefined) {
            this.pending.delete(m.seq);
            p.resolve(m);
          }
        }
      }
    });
    worker.on('exit', (code, signal) => this.exited(id, code, signal));
  }

  private exited(id: number, code: number | null, signal: string | null): void {
    this.live.delete(id);
    for (const b of this.bad.values()) b.retire(id);
    for (const [key, w] of Object.entries(this.lastSeen.get(id) ?? {})) {
      let into = this.retiredTotals.get(key);
      if (into === undefined)
        this.retiredTotals.set(key, (into = { requests: 0, errors: 0, latency: {}, statuses: {} }));
      addTotal(into, w.total);
    }
    this.lastSeen.delete(id);
    for (const [seq, p] of this.pending)
      if (p.worker === id) {
        this.pending.delete(seq);
        p.resolve('gone');
      }
    if (this.stopping) return;
    const now = Date.now();
    this.deaths = this.deaths.filter((t) => t > now - DEATH_WINDOW_MS).concat(now);
    process.stderr.write(
      `sluice proxy: worker ${id} ${signal !== null ? `killed by ${signal}` : `exited with code ${code}`}\n`,
    );
    if (this.deaths.length > MAX_DEATHS)
      return this.options.onFatal(`${this.deaths.length} workers died within ${DEATH_WINDOW_MS / 1000} s`);
    this.fork();
  }

  /** Sends `m` (made with a fresh seq) to one worker and resolves with its answer, or null past ANSWER_MS. */
  private ask(worker: Worker, make: (seq: number) => ToWorker): Promise<FromWorker | 'gone' | null> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        resolve(null);
      }, ANSWER_MS);
      this.pending.set(seq, {
        worker: worker.id,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
      worker.send(make(seq));
    });
  }

  table(): RouteTable | null {
    return this.current;
  }

  /** Every worker serves `table` when this resolves; the figure is the ms until the last confirmed. */
  async apply(table: RouteTable): Promise<number> {
    this.current = table;
    const sent = performance.now();
    const answers = await Promise.all(
      [...this.live.values()].map(async (w) => {
        const answer = await this.ask(w, (seq) => ({ t: 'routes', seq, table }));
        // No confirmation: that worker cannot be trusted to serve the new table; its successor will.
        if (answer === null) w.process.kill('SIGKILL');
        return answer;
      }),
    );
    // A worker that exited meanwhile is fine: its successor starts with this table.
    if (answers.includes(null))
      throw new Error(`a worker did not confirm the table within ${ANSWER_MS} ms; it was replaced`);
    return Math.round((performance.now() - sent) * 1000) / 1000;
  }

  async metrics(now: number, windowMs: number): Promise<Record<string, BackendWindow>> {
    const keys = this.current?.backends.map((b) => b.key) ?? [];
    const workers = [...this.live.values()];
    const answers = await Promise.all(
      workers.map((w) => this.ask(w, (seq) => ({ t: 'metrics', seq, now, windowMs, keys }))),
    );
    const perWorker: Record<string, BackendWindow>[] = [];
    answers.forEach((a, i) => {
      if (a === 'gone') return; // its totals were kept when it exited
      if (a === null || a.t !== 'metrics')
        throw new Error(`worker ${workers[i]!.id} did not answer a metrics read within ${ANSWER_MS} ms`);
      this.lastSeen.set(workers[i]!.id, a.backends);
      perWorker.push(a.backends);
    });
    return sumWindows(perWorker, this.retiredTotals);
  }

  async flagMetrics(): Promise<FlagCounts> {
    const answers = await Promise.all(
      [...this.live.values()].map((w) => this.ask(w, (seq) => ({ t: 'flagMetrics', seq }))),
    );
    return sumFlagCounts(
      answers.flatMap((a) => (a !== null && a !== 'gone' && a.t === 'flagMetrics' ? [a.flags] : [])),
    );
  }

  metricsOf(key: string): MergedBadCount {
    let b = this.bad.get(key);
    if (b === undefined) {
      b = new MergedBadCount();
      this.bad.set(key, b);
    }
    return b;
  }

  /** Every worker drains and exits; resolves when all have (killing any left after the drain bound). */
  async stop(): Promise<void> {
    this.stopping = true;
    const workers = [...Object.values(cluster.workers ?? {})].filter((w): w is Worker => w !== undefined);
    const exits = workers.map(
      (w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))),
    );
    for (const w of workers) if (w.isConnected()) w.send({ t: 'stop' } satisfies ToWorker);
    const bound = setTimeout(() => workers.forEach((w) => w.process.kill('SIGKILL')), DRAIN_MS + 1000);
    await Promise.all(exits);
    clearTimeout(bound);
    this.faults.close();
  }
}
