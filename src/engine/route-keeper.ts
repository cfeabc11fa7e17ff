import type { ServiceState } from '../core/release/state.ts';
import type { Weights } from '../core/types.ts';
import type { FaultControl, HostsApplied, Router } from '../drivers/routers/types.ts';
import { messageOf, withRetry } from './retry.ts';
import { routeDrift } from './route-drift.ts';
import { routeTableOf } from './route-table.ts';

/** What reading the table back found: the same, a drift, a failed read, or nothing to compare. */
export type ReadBack =
  | { kind: 'same' }
  | { kind: 'drift'; differences: string[] }
  | { kind: 'failed'; error: string }
  /** No table applied yet, an apply ran meanwhile, or applies are failing: nothing to judge. */
  | { kind: 'skipped' };

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export interface RouteKeeperHooks {
  /** The controller's clock (retry backoff, drain deadline). */
  now: () => number;
  /** The state whose weights the router must serve. */
  current: () => ServiceState;
  /** The router serves these weights now. */
  applied: (weights: Weights) => Promise<void>;
  failed: (operation: string, err: unknown) => Promise<void>;
  /** A router over several hosts: how an apply went on each host (after every attempt, confirmed or not). */
  hosts?: (outcome: HostsApplied, weights: Weights) => Promise<void>;
  /** Replicated: the lease epoch every table carries (the built-in proxy refuses a lower one). */
  epoch?: number;
}

/**
 * Keeps a router serving what the state says. Applies are serialised and always carry the latest
 * state; a failed apply is retried (bounded) and then re-asserted by the loop with a backoff.
 */
export class RouteKeeper {
  readonly #router: Router;
  readonly #config: string;
  readonly #current: () => ServiceState;
  readonly #now: () => number;
  readonly #onApplied: (weights: Weights) => Promise<void>;
  readonly #onFail: (operation: string, err: unknown) => Promise<void>;
  readonly #onHosts: RouteKeeperHooks['hosts'];
  #applied: string | null = null;
  #chain: Promise<boolean> = Promise.resolve(true);
  #failures = 0;
  #retryAt = 0;
  /** Bumped when an apply starts and ends: a read that overlapped one says nothing. */
  #generation = 0;
  #applying = false;
  readonly #epoch: number | undefined;

  /** The data plane's drill faults, when the router can inject them. */
  get faults(): FaultControl | undefined {
    return this.#router.faults;
  }

  constructor(router: Router, config: unknown, hooks: RouteKeeperHooks) {
    this.#router = router;
    this.#config = JSON.stringify(config);
    this.#current = hooks.current;
    this.#now = hooks.now;
    this.#onApplied = hooks.applied;
    this.#onFail = hooks.failed;
    this.#onHosts = hooks.hosts;
    this.#epoch = hooks.epoch;
  }

  /** The table the state asks for, with the lease epoch when there is one. */
  #tableOf(state: ServiceState): ReturnType<typeof routeTableOf>['table'] {
    const { table } = routeTableOf(state);
    return this.#epoch === undefined ? table : { ...table, epoch: this.#epoch };
  }

  sameConfig(config: unknown): boolean {
    return JSON.stringify(config) === this.#config;
  }

  /** True when the router last accepted the table the state asks for (or a retry is not due yet). */
  inSync(): boolean {
    if (this.#failures > 0 && this.#now() < this.#retryAt) return true;
    return JSON.stringify(this.#tableOf(this.#current())) === this.#applied;
  }

  /** Apply the state's table now; resolves true once the router serves it. */
  sync(): Promise<boolean> {
    const run = this.#chain.then(async () => {
      const state = this.#current();
      const table = this.#tableOf(state);
      const json = JSON.stringify(table);
      if (table.backends.length === 0) return true; // nothing runs yet: leave the data plane as it is
      try {
        if (json !== this.#applied) {
          this.#generation++;
          this.#applying = true;
          try {
            await withRetry(() => this.#router.apply(table), 3, 50);
          } finally {
            this.#applying = false;
            this.#generation++;
            await this.#reportHosts(state.weights);
          }
        }
        this.#applied = json;
        this.#failures = 0;
      } catch (err) {
        this.#applied = null;
        this.#failures++;
        this.#retryAt = this.#now() + Math.min(5_000, 250 * 2 ** this.#failures);
        await this.#onFail('apply routes', err);
        return false;
      }
      await this.#onApplied(state.weights);
      return true;
    });
    this.#chain = run.catch(() => false);
    return run;
  }

  /** Each host's outcome of the last apply (routers over several hosts); never throws. */
  async #reportHosts(weights: Weights): Promise<void> {
    const outcome = this.#router.lastApply?.() ?? null;
    if (outcome === null || this.#onHosts === undefined) return;
    await this.#onHosts(outcome, weights).catch(() => undefined);
  }

  /**
   * Read the served table back (at most `timeoutMs`) and compare it with the last one the router
   * accepted. Runs beside the applies, never in their queue: a slow read delays no revert.
   */
  async readBack(timeoutMs: number): Promise<ReadBack> {
    const applied = this.#applied;
    const generation = this.#generation;
    if (applied === null || this.#applying || this.#failures > 0) return { kind: 'skipped' };
    let served;
    try {
      served = await withTimeout(this.#router.read(), timeoutMs);
    } catch (err) {
      return generation === this.#generation ? { kind: 'failed', error: messageOf(err) } : { kind: 'skipped' };
    }
    if (generation !== this.#generation || this.#applying || this.#applied !== applied) return { kind: 'skipped' };
    const differences = routeDrift(JSON.parse(applied) as ReturnType<typeof routeTableOf>['table'], served);
    return differences.length === 0 ? { kind: 'same' } : { kind: 'drift', differences };
  }

  /** Apply the state's table again even though the router accepted it (it drifted, or could not be read). */
  reassert(): Promise<boolean> {
    this.#applied = null;
    return this.sync();
  }

  /** Wait until the revision has no request in flight, or the timeout passes. */
  async drain(key: string, timeoutMs: number): Promise<void> {
    const until = this.#now() + timeoutMs;
    while (this.#now() < until) {
      let inflight: Record<string, number> | null;
      try {
        inflight = await this.#router.inflight();
      } catch (err) {
        await this.#onFail('read in-flight requests', err);
        return;
      }
      if (inflight === null || (inflight[key] ?? 0) === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  close(): Promise<void> {
    return this.#router.close();
  }

  shutdown(): Promise<void> {
    return this.#router.shutdown();
  }
}
