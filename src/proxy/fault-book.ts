/**
 * The faults the proxy injects now, per backend key, each ending at its own expiry by the
 * proxy's clock (a dead controller's faults end by themselves; a restarted proxy has none). The
 * request path asks `pick` only when `size > 0`, so with no fault the cost is one comparison.
 * Percent faults hit an exact share of the key's requests (an accumulator, like the weighted
 * picker: 10% is 1 request in every 10); cohort faults hit the users whose header or cookie value
 * hashes below the percent, so the same users fail on every request.
 */
import { type ActiveFault, type FaultRule, METRICS_KEY } from '../core/drills/fault.ts';
import { cookieValue } from './headers.ts';
import { stickyPoint } from './picker.ts';

class LiveFault {
  rule: FaultRule;
  readonly setAt: number;
  expiresAt: number;
  hits = 0;
  firstHitAt: number | null = null;
  lastHitAt: number | null = null;
  /** Percent faults: the share accumulated since the last hit, in percent. */
  private credit = 0;

  constructor(rule: FaultRule, now: number) {
    this.rule = rule;
    this.setAt = now;
    this.expiresAt = now + rule.ttlMs;
  }

  /** Whether this request is hit (`rawHeaders` is read only for cohort faults). */
  takes(rawHeaders: readonly string[]): boolean {
    const cohort = this.rule.cohort;
    if (cohort === undefined) {
      this.credit += this.rule.percent;
      if (this.credit < 100) return false;
      this.credit -= 100;
      return true;
    }
    const value = 'header' in cohort ? headerValue(rawHeaders, cohort.header) : cookieOf(rawHeaders, cohort.cookie);
    return value !== undefined && stickyPoint(value) * 100 < this.rule.percent;
  }

  view(): ActiveFault {
    return {
      ...this.rule,
      setAt: this.setAt,
      expiresAt: this.expiresAt,
      hits: this.hits,
      firstHitAt: this.firstHitAt,
      lastHitAt: this.lastHitAt,
    };
  }
}

function headerValue(raw: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === lowerName.length && raw[i]!.toLowerCase() === lowerName) return raw[i + 1];
  }
  return undefined;
}

function cookieOf(raw: readonly string[], name: string): string | undefined {
  const header = headerValue(raw, 'cookie');
  return header === undefined ? undefined : cookieValue(header, name);
}

function sameFault(a: FaultRule, b: FaultRule): boolean {
  return JSON.stringify({ ...a, ttlMs: 0 }) === JSON.stringify({ ...b, ttlMs: 0 });
}

export class FaultBook {
  readonly #byKey = new Map<string, LiveFault[]>();
  readonly #byId = new Map<string, LiveFault>();
  #timer: NodeJS.Timeout | undefined;
  /** Told of every hit (a worker of a multi-worker proxy reports them to the primary). */
  readonly #onHit: ((id: string, now: number) => void) | undefined;

  constructor(onHit?: (id: string, now: number) => void) {
    this.#onHit = onHit;
  }

  /** Faults held now (expired ones included until the next sweep; `pick` skips them). */
  get size(): number {
    return this.#byId.size;
  }

  /**
   * Adds the rules. A rule whose id is held with the same effect and share renews it (its TTL
   * starts again, its counts stay: how a drill keeps its faults alive); otherwise it replaces it.
   */
  set(rules: readonly FaultRule[], now: number): ActiveFault[] {
    for (const rule of rules) {
      const held = this.#byId.get(rule.id);
      if (held !== undefined && sameFault(held.rule, rule)) {
        held.rule = rule;
        held.expiresAt = now + rule.ttlMs;
        continue;
      }
      this.#drop(rule.id);
      const live = new LiveFault(rule, now);
      this.#byId.set(rule.id, live);
      const list = this.#byKey.get(rule.key);
      if (list === undefined) this.#byKey.set(rule.key, [live]);
      else list.push(live);
    }
    this.#schedule(now);
    return rules.map((r) => this.#byId.get(r.id)!.view());
  }

  /** Removes the faults with these ids (every fault when `ids` is undefined); returns what they hit. */
  clear(ids: readonly string[] | undefined): ActiveFault[] {
    const gone = ids === undefined ? [...this.#byId.values()] : ids.flatMap((id) => this.#byId.get(id) ?? []);
    for (const f of gone) this.#drop(f.rule.id);
    if (this.#byId.size === 0) clearTimeout(this.#timer);
    return gone.map((f) => f.view());
  }

  /** The live rules with the TTL each has left (what a new worker of a multi-worker proxy is given). */
  rules(now: number): FaultRule[] {
    this.#sweep(now);
    return [...this.#byId.values()].map((f) => ({ ...f.rule, ttlMs: f.expiresAt - now }));
  }

  list(now: number): ActiveFault[] {
    this.#sweep(now);
    return [...this.#byId.values()].map((f) => f.view());
  }

  /**
   * The first live fault of `key` that takes this request, counted as a hit at the clock's time
   * (read only when `key` has faults); undefined when none does. Faults are tried in the order
   * they were set.
   */
  pick(key: string, rawHeaders: readonly string[], clock: () => number = Date.now): FaultRule | undefined {
    const list = this.#byKey.get(key);
    if (list === undefined) return undefined;
    const now = clock();
    for (const f of list) {
      if (f.expiresAt <= now || !f.takes(rawHeaders)) continue;
      f.hits++;
      f.firstHitAt ??= now;
      f.lastHitAt = now;
      this.#onHit?.(f.rule.id, now);
      return f.rule;
    }
    return undefined;
  }

  /** Hits counted elsewhere (by the workers of a multi-worker proxy), added to the fault's counts. */
  addHits(id: string, n: number, first: number, last: number): void {
    const f = this.#byId.get(id);
    if (f === undefined) return;
    f.hits += n;
    f.firstHitAt = f.firstHitAt === null ? first : Math.min(f.firstHitAt, first);
    f.lastHitAt = Math.max(f.lastHitAt ?? last, last);
  }

  /** Whether a metricsOutage fault is live: the metrics API answers 503 (counted as the fault's hit). */
  metricsDown(now: number): boolean {
    const list = this.#byKey.get(METRICS_KEY);
    const live = list?.find((f) => f.expiresAt > now);
    if (live === undefined) return false;
    live.hits++;
    live.firstHitAt ??= now;
    live.lastHitAt = now;
    return true;
  }

  #drop(id: string): void {
    const f = this.#byId.get(id);
    if (f === undefined) return;
    this.#byId.delete(id);
    const list = this.#byKey.get(f.rule.key)!.filter((x) => x !== f);
    if (list.length === 0) this.#byKey.delete(f.rule.key);
    else this.#byKey.set(f.rule.key, list);
  }

  #sweep(now: number): void {
    for (const f of [...this.#byId.values()]) if (f.expiresAt <= now) this.#drop(f.rule.id);
  }

  /** Expired faults are dropped at the next expiry, so `size` falls back to 0 and the fast path returns. */
  #schedule(now: number): void {
    clearTimeout(this.#timer);
    let next = Infinity;
    for (const f of this.#byId.values()) next = Math.min(next, f.expiresAt);
    if (next === Infinity) return;
    this.#timer = setTimeout(
      () => {
        const at = Date.now();
        this.#sweep(at);
        this.#schedule(at);
      },
      Math.max(0, next - now) + 1,
    );
    this.#timer.unref();
  }

  close(): void {
    clearTimeout(this.#timer);
  }
}
