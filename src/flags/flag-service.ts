/**
 * The flags of this server: every change an event in the hash-chained log under `_flags`, with
 * its actor; the flag set is folded from them (core/flags/flag-set.ts), never kept in a table of
 * its own. Changes are serialised; listeners (the providers' streams, the proxy) hear each new
 * version of the set. On replicas (`follow`), another replica's changes are read from the log in
 * its order, so every replica serves the same set within a second, a kill switch included.
 */
import type { FlagEvent } from '../core/flags/events.ts';
import { emptyFlagSet, exposedRule, reduceFlags, type FlagRecord, type FlagSet } from '../core/flags/flag-set.ts';
import type { FeatureFlag, Segment } from '../core/flags/model.ts';
import { flagProblems } from '../core/flags/validate.ts';
import { emptyState } from '../core/release/state.ts';
import { SluiceError } from '../errors.ts';
import type { EventBus } from '../engine/event-bus.ts';
import type { Store } from '../store/types.ts';

export const FLAG_LOG = '_flags';

type Listener = (set: FlagSet) => void;

export class FlagService {
  readonly #store: Store;
  #bus: EventBus | null;
  readonly #now: () => number;
  readonly #listeners = new Set<Listener>();
  #set: FlagSet = emptyFlagSet();
  #queue: Promise<unknown> = Promise.resolve();
  /** Replicated: the set is read from the log after each change, in the log's order (follow). */
  #following = false;
  /** A catch-up with the log is queued and has not started yet. */
  #catchUpQueued = false;

  private constructor(store: Store, bus: EventBus | null, now: () => number) {
    this.#store = store;
    this.#bus = bus;
    this.#now = now;
  }

  /** The flag set replayed from the log. */
  static async open(store: Store, bus: EventBus | null = null, now: () => number = Date.now): Promise<FlagService> {
    const s = new FlagService(store, bus, now);
    await s.#catchUp();
    return s;
  }

  /** Folds the flag events after the last one folded, in the log's order. */
  async #catchUp(): Promise<void> {
    for (;;) {
      const page = await this.#store.events({ service: FLAG_LOG, afterSeq: this.#set.version, limit: 5000 });
      for (const e of page) this.#set = reduceFlags(this.#set, e as FlagEvent & typeof e);
      if (page.length < 5000) return;
    }
  }

  /** Publish flag events on the engine's bus too (the event stream), once the engine exists. */
  publishTo(bus: EventBus): void {
    this.#bus = bus;
  }

  /**
   * Replicas: flag events another replica committed (read by the engine's log follower) bring
   * this set up to date from the log, and its listeners hear the new version. Returns the stop.
   */
  follow(bus: EventBus): () => void {
    this.#following = true;
    return bus.subscribe((e, origin) => {
      if (origin !== 'replica' || e.service !== FLAG_LOG || this.#catchUpQueued) return;
      this.#catchUpQueued = true;
      const run = this.#queue.then(async () => {
        this.#catchUpQueued = false;
        const before = this.#set.version;
        await this.#catchUp();
        if (this.#set.version !== before) this.#tell();
      });
      this.#queue = run.catch(() => undefined);
    });
  }

  #tell(): void {
    for (const l of this.#listeners) {
      try {
        l(this.#set);
      } catch {
        // A listener's failure is its own; it never stops a flag change.
      }
    }
  }

  get set(): FlagSet {
    return this.#set;
  }

  /** Hear every new version of the set; returns the unsubscribe. */
  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  list(): FlagRecord[] {
    return Object.values(this.#set.flags).sort((a, b) => a.flag.name.localeCompare(b.flag.name));
  }

  get(name: string): FlagRecord {
    const r = this.#set.flags[name];
    if (r === undefined)
      throw new SluiceError(
        'NOT_FOUND',
        `no flag named "${name}"; see sluice flag list, or apply a kind: FeatureFlag document`,
      );
    return r;
  }

  /** Refusals of a flag against the stored segments (and those applied with it), as "file: path: message". */
  problems(flag: FeatureFlag, file: string, alsoSegments: readonly string[] = []): string[] {
    const known = new Set([...Object.keys(this.#set.segments), ...alsoSegments]);
    const path = (p: (string | number)[]) =>
      p.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${k}`)).join('');
    return flagProblems(flag, known).map((p) => `${file}: spec.${path(p.path)}: ${p.message}`);
  }

  /**
   * Refusals of a Service's setFlag steps (anywhere in its spec): the flag, its environment and
   * the rule they expose must exist (flags applied in the same text count).
   */
  stepProblems(spec: unknown, file: string, alsoFlags: readonly FeatureFlag[] = []): string[] {
    const steps: { flag: string; environment: string; rule: string | null }[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (typeof v === 'object' && v !== null) {
        if ((v as { kind?: unknown }).kind === 'setFlag') steps.push(v as (typeof steps)[number]);
        else Object.values(v).forEach(walk);
      }
    };
    walk(spec);
    const declared = ((spec as { spec?: { flags?: string[] } }).spec?.flags ?? []).filter(
      (name) => !alsoFlags.some((f) => f.name === name) && this.#set.flags[name] === undefined,
    );
    const undeclared = declared.map(
      (name) =>
        `${file}: spec.flags: no flag "${name}"; apply its kind: FeatureFlag first (flags: ${Object.keys(this.#set.flags).join(', ') || 'none'})`,
    );
    return undeclared.concat(
      steps.flatMap((s) => {
        const flag = alsoFlags.find((f) => f.name === s.flag) ?? this.#set.flags[s.flag]?.flag;
        if (flag === undefined)
          return [
            `${file}: setFlag: no flag "${s.flag}"; apply its kind: FeatureFlag first (flags: ${Object.keys(this.#set.flags).join(', ') || 'none'})`,
          ];
        const env = flag.environments[s.environment];
        if (env === undefined)
          return [
            `${file}: setFlag ${s.flag}: the flag has no environment "${s.environment}"; it has ${Object.keys(flag.environments).join(', ') || 'none'}`,
          ];
        if (
          exposedRule(env.rules, s.rule) === null &&
          !(env.rules.length === 0 && s.rule === null && 'on' in flag.variants)
        ) {
          return [
            `${file}: setFlag ${s.flag} in ${s.environment}: ${s.rule === null ? `say which rule with rule: (rules: ${env.rules.map((r) => r.name).join(', ')})` : `no rule "${s.rule}"`}`,
          ];
        }
        return [];
      }),
    );
  }

  applyFlag(flag: FeatureFlag, file: string | null, actor: string): Promise<FlagSet> {
    return this.#record([{ type: 'flag.applied', flag, file }], actor);
  }

  applySegment(segment: Segment, file: string | null, actor: string): Promise<FlagSet> {
    return this.#record([{ type: 'segment.applied', segment, file }], actor);
  }

  /** A rule's exposure in one environment (the rule named, else the flag's one rule with an exposure). */
  setPercent(
    name: string,
    o: { environment: string; percent: number; rule: string | null; reason: string | null },
    actor: string,
  ): Promise<FlagSet> {
    const { flag } = this.#live(name);
    if (!Number.isFinite(o.percent) || o.percent < 0 || o.percent > 100)
      throw new SluiceError('BAD_REQUEST', `percent ${o.percent} is outside 0–100`);
    const rules = this.#environment(flag, o.environment).rules;
    let rule = exposedRule(rules, o.rule)?.name ?? null;
    if (rule === null && rules.length === 0 && o.rule === null && 'on' in flag.variants) rule = 'rollout';
    if (rule === null) {
      const named = rules.map((r) => r.name).join(', ') || 'none';
      throw new SluiceError(
        'BAD_REQUEST',
        o.rule === null
          ? `flag ${name} in ${o.environment}: say which rule to expose with --rule (rules: ${named})`
          : `flag ${name} in ${o.environment} has no rule "${o.rule}"; rules: ${named}`,
      );
    }
    return this.#record(
      [{ type: 'flag.percentSet', flag: name, environment: o.environment, rule, percent: o.percent, reason: o.reason }],
      actor,
    );
  }

  /** Resume a flag its contract paused: a frozen ramp goes on from where it stopped, and judging starts again. */
  resume(name: string, environment: string, reason: string | null, actor: string): Promise<FlagSet> {
    const { flag } = this.#live(name);
    if (this.#environment(flag, environment).paused === undefined)
      throw new SluiceError('CONFLICT', `flag ${name} is not paused in ${environment}; nothing to resume`);
    return this.#record([{ type: 'flag.resumed', flag: name, environment, reason }], actor);
  }

  enable(name: string, environment: string, actor: string): Promise<FlagSet> {
    const { flag } = this.#live(name);
    this.#environment(flag, environment);
    return this.#record([{ type: 'flag.enabled', flag: name, environment }], actor);
  }

  /** The kill switch. Never refused for an existing flag and environment: turning a flag off is always allowed. */
  disable(name: string, environment: string, reason: string | null, actor: string): Promise<FlagSet> {
    const { flag } = this.get(name);
    this.#environment(flag, environment);
    return this.#record([{ type: 'flag.disabled', flag: name, environment, reason }], actor);
  }

  archive(name: string, actor: string): Promise<FlagSet> {
    this.get(name);
    return this.#record([{ type: 'flag.archived', flag: name }], actor);
  }

  /** Record events that someone other than a person decided (the flag's contract, a ramp). */
  recordEvents(events: FlagEvent[], actor: string): Promise<FlagSet> {
    return this.#record(events, actor);
  }

  #live(name: string): FlagRecord {
    const r = this.get(name);
    if (r.archived)
      throw new SluiceError(
        'CONFLICT',
        `flag ${name} is archived; apply its FeatureFlag document again to bring it back`,
      );
    return r;
  }

  #environment(flag: FeatureFlag, environment: string) {
    const env = flag.environments[environment];
    if (env === undefined)
      throw new SluiceError(
        'NOT_FOUND',
        `flag ${flag.name} has no environment "${environment}"; it has ${Object.keys(flag.environments).join(', ') || 'none'} (add it under spec.environments)`,
      );
    return env;
  }

  #record(events: FlagEvent[], actor: string): Promise<FlagSet> {
    const run = this.#queue.then(async () => {
      const at = this.#now();
      const stored = await this.#store.commit(
        FLAG_LOG,
        events.map((e) => ({ ...e, at, actor })),
        emptyState(FLAG_LOG),
      );
      // On replicas another's events may come before these in the log: read them all in its order.
      if (this.#following) await this.#catchUp();
      else for (const e of stored) this.#set = reduceFlags(this.#set, e as FlagEvent & typeof e);
      this.#bus?.publish(stored);
      this.#tell();
      return this.#set;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
