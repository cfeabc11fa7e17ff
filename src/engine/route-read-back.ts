/**
 * Reads the router's table back on every tick, beside the control loop (never awaited by it), and
 * reports what it finds: a table that differs from the one the router accepted (changed behind
 * Sluice's back) is reported once seen twice in a row, then re-asserted; reads that fail or
 * hang past their time box for FAILURE_GRACE_MS are reported (again every FAILURE_REPEAT_MS), and
 * the table is re-asserted once a read answers again. A read failing for a moment (NGINX between
 * a reload and its workers) is not reported and costs no reload.
 */
import type { ReadBack } from './route-keeper.ts';

export interface ReadBackSource {
  readBack(timeoutMs: number): Promise<ReadBack>;
  reassert(): Promise<boolean>;
}

export interface ReadBackHooks {
  /** The served table differs (seen twice, CONFIRM_MS apart); it is re-asserted after this resolves. */
  drifted: (differences: string[]) => Promise<void>;
  /** The table could not be read back for FAILURE_GRACE_MS (then again every FAILURE_REPEAT_MS). */
  failed: (error: string) => Promise<void>;
  /** True while the data plane is known to be down (its death is reported already): no read. */
  hold: () => boolean;
}

/** Longest a read may take before it counts as failed. */
export const READ_TIMEOUT_MS = 1000;
/** A drift is reported when a second read this much later sees the same (a change in flight is not drift). */
export const CONFIRM_MS = 200;
export const FAILURE_GRACE_MS = 2000;
const FAILURE_REPEAT_MS = 30_000;
/** The same drift coming back after a re-assert is read again after a backoff, doubling up to this. */
const MAX_BACKOFF_MS = 30_000;

export class RouteReadBack {
  readonly #source: () => ReadBackSource;
  readonly #hooks: ReadBackHooks;
  readonly #now: () => number;
  #running = false;
  #nextAt = 0;
  /** A drift seen once, waiting for its confirmation. */
  #pending: string | null = null;
  /** The last drift reported, and how many times in a row it came back. */
  #reported: string | null = null;
  #repeats = 0;
  #failingSince: number | null = null;
  /** When the current failing stretch was last reported (null: not reported). */
  #failureReportedAt: number | null = null;

  constructor(source: () => ReadBackSource, hooks: ReadBackHooks, now: () => number = Date.now) {
    this.#source = source;
    this.#hooks = hooks;
    this.#now = now;
  }

  /** Called each tick; returns at once. */
  poll(): void {
    if (this.#running || this.#now() < this.#nextAt || this.#hooks.hold()) return;
    this.#running = true;
    void this.check()
      .catch(() => undefined)
      .finally(() => (this.#running = false));
  }

  /** One read and what follows from it (exported for tests through poll's promise). */
  async check(): Promise<ReadBack['kind'] | 'pending'> {
    const source = this.#source();
    const r = await source.readBack(READ_TIMEOUT_MS);
    const now = this.#now();
    if (r.kind === 'skipped') {
      this.#pending = null;
      return r.kind;
    }
    if (r.kind === 'failed') {
      this.#pending = null;
      this.#failingSince ??= now;
      const due =
        this.#failureReportedAt === null
          ? now - this.#failingSince >= FAILURE_GRACE_MS
          : now - this.#failureReportedAt >= FAILURE_REPEAT_MS;
      if (due) {
        this.#failureReportedAt = now;
        await this.#hooks.failed(r.error);
      }
      return r.kind;
    }
    const reported = this.#failureReportedAt !== null;
    this.#failingSince = null;
    this.#failureReportedAt = null;
    // It answers again after a reported failure: re-assert, so the router's problem ends with the table confirmed.
    if (reported) void source.reassert();
    if (r.kind === 'same') {
      this.#pending = null;
      this.#reported = null;
      this.#repeats = 0;
      return r.kind;
    }
    const what = r.differences.join('; ');
    if (this.#pending !== what) {
      this.#pending = what;
      this.#nextAt = now + CONFIRM_MS;
      return 'pending';
    }
    this.#pending = null;
    this.#repeats = this.#reported === what ? this.#repeats + 1 : 0;
    this.#reported = what;
    if (this.#repeats > 0) this.#nextAt = now + Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.#repeats);
    await this.#hooks.drifted(r.differences);
    await source.reassert();
    return r.kind;
  }
}
