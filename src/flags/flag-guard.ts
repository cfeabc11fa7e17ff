/**
 * Flags under their own rollback contract. Each served variant is judged against the off variant
 * on the requests since the flag's definition last changed (core/flags/flag-judge.ts): the error
 * rate, and the latency quantiles of the contract's latency rules. The per-variant counts come
 * from where the contract's `evidence` says:
 * - `proxy`: for each service named by such a contract, the guard gives that service's built-in
 *   proxy the flags to evaluate per request (PUT /flags) and reads its per-variant counts and
 *   histograms (GET /flags/metrics);
 * - `sdk`: the outcomes applications report per variant (flags/flag-telemetry.ts), for services
 *   behind HAProxy, NGINX or any router, whose code evaluates the flag itself.
 * A Fail turns the flag off in that environment (a `flag.rolledBack` event with the rule and the
 * figures, by the controller; the proxy and the providers serve the off variant on their next
 * set), or with `onFail: pause` freezes its exposure (`flag.paused`). A proxy that cannot be
 * reached is skipped and tried again; nothing here can delay a person's kill switch (that is an
 * event of its own).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONTROLLER } from '../core/events.ts';
import { attachedEndpoint } from '../drivers/routers/builtin/attached-file.ts';
import { environmentFlagSet } from '../core/flags/environment-set.ts';
import { flagFailEvent, judgeFlag, tallySince, type VariantTally } from '../core/flags/flag-judge.ts';
import type { FeatureFlag } from '../core/flags/model.ts';
import type { FlagService } from './flag-service.ts';
import type { FlagTelemetry } from './flag-telemetry.ts';
import { VariantSeries } from './variant-series.ts';

interface Proxy {
  adminUrl: string;
  secret: string;
}

type Counts = Record<string, Record<string, VariantTally>>;

async function proxyOf(dataDir: string, service: string): Promise<Proxy | null> {
  const dir = join(dataDir, 'services', service, 'router');
  try {
    // A running proxy the service's router is attached to (router.proxy), else the one it started.
    const attached = await attachedEndpoint(dir);
    if (attached !== null) return attached;
    const info = JSON.parse(await readFile(join(dir, 'proxy.json'), 'utf8')) as { adminUrl?: string };
    const secret = (await readFile(join(dir, 'admin.secret'), 'utf8')).trim();
    return typeof info.adminUrl === 'string' ? { adminUrl: info.adminUrl, secret } : null;
  } catch {
    return null;
  }
}

export interface FlagGuardOptions {
  dataDir: string;
  intervalMs?: number;
  now?: () => number;
  onError?: (service: string, error: Error) => void;
  /** The per-variant series kept for the dashboard (flags/variant-series.ts). */
  series?: { sampleMs?: number; capacity?: number };
  /** Replicated: whether this replica runs the service (only its owner guards its flags, so each is judged once). */
  runs?: (service: string) => boolean;
  /** What applications report: the evidence of contracts with `evidence: sdk` (none: such flags are not judged). */
  telemetry?: FlagTelemetry;
}

export class FlagGuard {
  readonly #flags: FlagService;
  readonly #o: FlagGuardOptions;
  /** The config last pushed to each service's proxy (JSON). */
  readonly #pushed = new Map<string, string>();
  readonly #startedAt = new Map<string, number>();
  /** Per flag: the proxy's counts when its definition last reached the proxy (null: take at the next read). */
  readonly #marks = new Map<string, Counts[string] | null>();
  /** Per flag judged on reports (evidence sdk): its environment's definition as last judged (JSON). */
  readonly #reported = new Map<string, string>();
  /** The last failure reported per service: a proxy down for an hour is reported once, not every tick. */
  readonly #failing = new Map<string, string>();
  /** Recent per-variant counts and verdicts, for GET /api/flags/:name/variants. */
  readonly variants: VariantSeries;
  #timer: NodeJS.Timeout | null = null;
  /** The round under way, if any: one at a time, and close waits for it. */
  #round: Promise<void> | null = null;

  constructor(flags: FlagService, o: FlagGuardOptions) {
    this.#flags = flags;
    this.#o = o;
    this.variants = new VariantSeries(o.series);
  }

  start(): void {
    this.#timer = setInterval(() => {
      if (this.#round !== null) return;
      this.#round = this.tick()
        .catch(() => undefined)
        .finally(() => (this.#round = null));
    }, this.#o.intervalMs ?? 250);
    this.#timer.unref();
  }

  /**
   * No further rounds; resolves when the one under way (if any) has ended, so its sample is kept,
   * or after 2 s at most (a proxy slow to answer does not hold up a shutdown).
   */
  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    if (this.#round === null) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#round, new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
  }

  /** One round over every service a flag contract names. */
  async tick(): Promise<void> {
    const guarded = new Map<string, FeatureFlag[]>();
    const now = (this.#o.now ?? Date.now)();
    for (const r of Object.values(this.#flags.set.flags)) {
      const c = r.flag.rollbackContract;
      if (r.archived || c === undefined || this.#o.runs?.(c.service) === false) continue;
      if (c.evidence === 'sdk')
        await this.#reporting(`flag:${r.flag.name}`, c.service, () => this.#guardReported(r.flag, now));
      else guarded.set(c.service, [...(guarded.get(c.service) ?? []), r.flag]);
    }
    for (const [service, flags] of guarded) await this.#reporting(service, service, () => this.#guard(service, flags));
  }

  /** Runs one part of a round (a service's proxy, a flag's reports); a failure is reported once until it changes or clears. */
  async #reporting(key: string, service: string, part: () => Promise<void>): Promise<void> {
    try {
      await part();
      this.#failing.delete(key);
    } catch (err) {
      const message = (err as Error).message;
      if (this.#failing.get(key) !== message) this.#o.onError?.(service, err as Error);
      this.#failing.set(key, message);
    }
  }

  async #guard(service: string, flags: FeatureFlag[]): Promise<void> {
    const proxy = await proxyOf(this.#o.dataDir, service);
    if (proxy === null) return;
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${proxy.adminUrl}${path}`, {
        method,
        signal: AbortSignal.timeout(2000),
        headers: {
          authorization: `Bearer ${proxy.secret}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const json = (await res.json()) as unknown;
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    // One environment and stickiness per proxy: the first flag's (docs/flags.md).
    const first = flags[0]!.rollbackContract!;
    const mine = flags.filter((f) => f.rollbackContract!.environment === first.environment);
    const config = {
      set: environmentFlagSet(this.#flags.set, first.environment, new Set(mine.map((f) => f.name))),
      stickiness: first.stickiness,
    };
    const text = JSON.stringify({ ...config, set: { ...config.set, version: 0 } });
    const before = this.#pushed.get(service);
    if (before !== text) {
      await call('PUT', '/flags', config);
      const old = before === undefined ? null : (JSON.parse(before) as typeof config);
      for (const f of mine) {
        const was = old?.set.flags.find((x) => x.name === f.name);
        if (JSON.stringify(was) !== JSON.stringify(config.set.flags.find((x) => x.name === f.name)))
          this.#marks.set(f.name, null);
      }
      this.#pushed.set(service, text);
    }
    const metrics = (await call('GET', '/flags/metrics')) as { startedAt: number; flags: Counts };
    if (this.#startedAt.get(service) !== metrics.startedAt) {
      // The proxy started again: its counts began again, and so do the marks.
      if (this.#startedAt.has(service)) for (const f of mine) this.#marks.set(f.name, {});
      this.#startedAt.set(service, metrics.startedAt);
    }
    const now = (this.#o.now ?? Date.now)();
    for (const flag of mine) await this.#judge(flag, metrics.flags[flag.name] ?? {}, now);
  }

  /**
   * A flag whose evidence is the applications' reports: judged on the outcomes reported since
   * its definition in the contract's environment last changed (the providers evaluate the new
   * one as soon as it reaches them).
   */
  async #guardReported(flag: FeatureFlag, now: number): Promise<void> {
    const telemetry = this.#o.telemetry;
    if (telemetry === undefined) return;
    const environment = flag.rollbackContract!.environment;
    const definition = JSON.stringify(flag.environments[environment] ?? null) + JSON.stringify(flag.variants);
    if (this.#reported.get(flag.name) !== definition) {
      this.#reported.set(flag.name, definition);
      this.#marks.set(flag.name, null);
    }
    await this.#judge(flag, await telemetry.outcomes(environment, flag.name), now);
  }

  /** One flag's verdicts on its counts since its mark (the first counts seen become the mark). */
  async #judge(flag: FeatureFlag, counts: Record<string, VariantTally>, now: number): Promise<void> {
    const environment = flag.rollbackContract!.environment;
    const mark = this.#marks.get(flag.name);
    // The counts went back (a proxy or the reporting processes started again): they begin again from here.
    const wentBack =
      mark !== undefined &&
      mark !== null &&
      Object.entries(mark).some(([v, m]) => (counts[v]?.requests ?? 0) < m.requests);
    if (mark === undefined || mark === null || wentBack) {
      this.#marks.set(flag.name, counts);
      return;
    }
    const env = flag.environments[environment];
    // Off, or held by a pause until a person sets it: nothing to judge.
    if (env?.enabled !== true || env.paused !== undefined) return;
    const tallies: Record<string, VariantTally> = {};
    for (const [variant, c] of Object.entries(counts)) tallies[variant] = tallySince(c, mark[variant]);
    const verdicts = judgeFlag(flag, tallies);
    this.variants.record(flag.name, environment, flag.offVariant, now, counts, verdicts);
    const failed = verdicts.find((v) => v.judgment.outcome === 'Fail');
    if (failed === undefined) return;
    await this.#flags.recordEvents([flagFailEvent(flag, failed, now)], CONTROLLER);
  }
}
