/**
 * One router over several hosts of one driver (`router:` as a list): every table goes to every
 * host at once, and `apply` resolves only when every host confirmed it; a host that did not
 * (unreachable, refused, or no answer within HOST_DEADLINE_MS) makes it reject, naming the host,
 * while the others keep the new table (each driver orders weight increases before decreases
 * itself). A stuck host never holds up the others: each host has at most one apply in flight and
 * is given the latest table when it is free again, so a rollback reaches every reachable host at
 * once. The engine retries the apply until all answer (applying is idempotent). Reads and in-flight counts are every host's: the first host serving another table
 * is reported, in-flight requests are summed. Each host's files live in
 * `<serviceDir>/router/hosts/<host>/`; their access-log descriptions are merged into the service's.
 */
import { join } from 'node:path';
import { type LogStreamFile, readLogStream, writeLogStream } from '../access-log.ts';
import type { DriverContext } from '../types.ts';
import type { HostsApplied, RouteTable, Router, RouterSignal } from './types.ts';

export interface FleetMember {
  /** How the host is named in errors and in the rollback log (its listen address or admin socket). */
  host: string;
  router: Router;
  /** The member's own service dir. */
  serviceDir: string;
}

/** The folder of one host's files. */
export const hostDir = (serviceDir: string, host: string) =>
  join(serviceDir, 'router', 'hosts', host.replace(/[^A-Za-z0-9.:_-]/g, '_'));

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * How long one apply waits for a host before counting it as not confirmed (its apply goes on):
 * longer for a host that never confirmed a table (starting a managed haproxy or nginx takes seconds
 * on a busy machine), and an NGINX reload waits up to 5 s for old workers.
 */
export const HOST_DEADLINE_MS = 6000;
export const FIRST_APPLY_DEADLINE_MS = 15_000;
/** A host that did not confirm the last table is waited for this long only, so it cannot delay a rollback of the others. */
export const SUSPECT_DEADLINE_MS = 100;

/** One host's applies: one in flight at a time, the latest table next; resolves when `table` is served. */
class HostQueue {
  readonly #member: FleetMember;
  readonly host: string;
  #running: Promise<void> | null = null;
  #wanted: RouteTable | null = null;
  /** When the apply in flight started (null: none in flight). */
  busySince: number | null = null;
  readonly #waiters: Array<{ table: RouteTable; settle: (err: Error | null) => void }> = [];

  constructor(member: FleetMember) {
    this.#member = member;
    this.host = member.host;
  }

  apply(table: RouteTable): Promise<void> {
    this.#wanted = table;
    const done = new Promise<void>((resolve, reject) =>
      this.#waiters.push({ table, settle: (err) => (err === null ? resolve() : reject(err)) }),
    );
    this.#running ??= this.#drain().finally(() => (this.#running = null));
    return done;
  }

  async #drain(): Promise<void> {
    while (this.#wanted !== null) {
      const table = this.#wanted;
      this.#wanted = null;
      let error: Error | null = null;
      this.busySince = Date.now();
      try {
        await this.#member.router.apply(table);
      } catch (err) {
        error = err instanceof Error ? err : new Error(String(err));
      } finally {
        this.busySince = null;
      }
      // Waiters for this table (or an older one, now superseded) learn how it went.
      const newer = this.#wanted;
      for (const w of this.#waiters.splice(0)) {
        if (newer !== null && w.table !== table) this.#waiters.push(w);
        else w.settle(error);
      }
    }
  }
}

function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)),
  );
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export class FleetRouter implements Router {
  readonly #members: FleetMember[];
  readonly #queues: HostQueue[];
  readonly #ctx: DriverContext;
  readonly #deadlineMs: number;
  #last: HostsApplied | null = null;
  /** Hosts that did not confirm the last table. */
  readonly #suspect = new Set<string>();
  /** Hosts that confirmed a table at least once. */
  readonly #confirmed = new Set<string>();

  constructor(members: FleetMember[], ctx: DriverContext, deadlineMs = HOST_DEADLINE_MS) {
    this.#members = members;
    this.#queues = members.map((m) => new HostQueue(m));
    this.#ctx = ctx;
    this.#deadlineMs = deadlineMs;
  }

  async apply(table: RouteTable): Promise<void> {
    const started = Date.now();
    const results = await Promise.allSettled(
      this.#queues.map(async (q) => {
        // A host already stuck past the deadline is not waited for again (a rollback must reach the others
        // at once); it gets the table when it answers.
        const stuckMs = q.busySince === null ? 0 : started - q.busySince;
        const applied = q.apply(table);
        applied.catch(() => undefined);
        if (stuckMs > this.#deadlineMs) throw new Error(`no answer for ${(stuckMs / 1000).toFixed(1)} s`);
        const deadline = this.#suspect.has(q.host)
          ? SUSPECT_DEADLINE_MS
          : this.#confirmed.has(q.host)
            ? this.#deadlineMs
            : Math.max(this.#deadlineMs, FIRST_APPLY_DEADLINE_MS);
        await withDeadline(applied, deadline);
        return Date.now();
      }),
    );
    const outcome: HostsApplied = { applied: {}, unreachable: {} };
    results.forEach((r, i) => {
      const host = this.#members[i]!.host;
      if (r.status === 'fulfilled') {
        outcome.applied[host] = r.value;
        this.#suspect.delete(host);
        this.#confirmed.add(host);
      } else {
        outcome.unreachable[host] = messageOf(r.reason);
        this.#suspect.add(host);
      }
    });
    this.#last = outcome;
    await this.#mergeLogStreams();
    const failed = Object.entries(outcome.unreachable);
    if (failed.length > 0) {
      const served = Object.keys(outcome.applied);
      throw new Error(
        `${failed.length} of ${this.#members.length} hosts did not confirm the table (${failed.map(([h, e]) => `${h}: ${e}`).join('; ')}); ` +
          (served.length > 0 ? `${served.join(', ')} serve it` : 'no host serves it'),
      );
    }
  }

  lastApply(): HostsApplied | null {
    return this.#last;
  }

  /** The members' access-log descriptions as one: all sources, all upstreams. */
  async #mergeLogStreams(): Promise<void> {
    const streams = (await Promise.all(this.#members.map((m) => readLogStream(m.serviceDir).catch(() => null)))).filter(
      (s): s is LogStreamFile => s !== null,
    );
    if (streams.length === 0) return;
    await writeLogStream(this.#ctx.serviceDir, {
      sources: streams.flatMap((s) => s.sources),
      upstreams: Object.assign({}, ...streams.map((s) => s.upstreams)) as Record<string, string>,
      servers: Object.assign({}, ...streams.map((s) => s.servers ?? {})) as Record<string, string>,
    });
  }

  async read(): Promise<RouteTable | null> {
    const tables = await Promise.all(
      this.#members.map(async (m) => {
        try {
          return await m.router.read();
        } catch (err) {
          throw new Error(`host ${m.host}: ${messageOf(err)}`);
        }
      }),
    );
    // A host that serves another table (or none) is the drift to report.
    const first = JSON.stringify(tables[0] ?? null);
    return tables.find((t) => JSON.stringify(t) !== first) ?? tables[0] ?? null;
  }

  async inflight(): Promise<Record<string, number> | null> {
    const all = await Promise.all(this.#members.map((m) => m.router.inflight().catch(() => null)));
    if (all.some((x) => x === null)) return null;
    const out: Record<string, number> = {};
    for (const counts of all) for (const [k, n] of Object.entries(counts!)) out[k] = (out[k] ?? 0) + n;
    return out;
  }

  onSignal(listener: (signal: RouterSignal) => void): void {
    for (const m of this.#members) m.router.onSignal?.(listener);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#members.map((m) => m.router.close()));
  }

  async shutdown(): Promise<void> {
    const results = await Promise.allSettled(this.#members.map((m) => m.router.shutdown()));
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [`${this.#members[i]!.host}: ${messageOf(r.reason)}`] : [],
    );
    if (failed.length > 0) throw new Error(`could not stop the router on ${failed.join('; ')}`);
  }
}
