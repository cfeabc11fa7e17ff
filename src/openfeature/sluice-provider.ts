/**
 * An OpenFeature provider for Node that evaluates Sluice's flags in the process, with the same
 * code as the server (core/flags/evaluate.ts). It streams its environment's flag set, emits
 * READY on the first set, CONFIGURATION_CHANGED on each change (naming the flags changed), STALE
 * when the stream is down (serving the last good set meanwhile), READY again when it is back, and
 * ERROR when no set has come at all. Its hook reports evaluations per variant to Sluice.
 *
 * The outcome of each request the application serves is reported through OpenFeature's tracking
 * API: `client.track('request', context, { value: latencyMs, status: 503 })` (or `error: true`).
 * The provider evaluates each flag of the set for that context, as it did for the request, and
 * counts the request, whether it failed (`error`, else a `status` of 500 or more) and its latency
 * under the variant served; these are the evidence a flag contract with `evidence: sdk` is judged
 * on (docs/flags.md).
 *
 *   import { SluiceProvider } from 'sluice/openfeature';
 *   await OpenFeature.setProviderAndWait(new SluiceProvider({ url, token: process.env.SLUICE_SDK_TOKEN }));
 */
import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  StandardResolutionReasons,
  type EvaluationContext,
  type Hook,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
  type TrackingEventDetails,
} from '@openfeature/server-sdk';
import { evaluate, type CompiledFlag } from '../core/flags/evaluate.ts';
import { compileEnvironment, type EnvironmentFlagSet } from '../core/flags/environment-set.ts';
import { EvaluationReport } from './evaluation-report.ts';
import { FlagStream } from './flag-stream.ts';

export interface SluiceProviderOptions {
  /** Sluice's URL, e.g. http://127.0.0.1:7070. */
  url: string;
  /** An sdk token (sluice token create --role sdk --env ENV): it names the environment. */
  token: string;
  /** How long initialize waits for the first set (default 5 s). */
  initTimeoutMs?: number;
  /** How often the hook reports evaluations and outcomes (default 2 s; 0: no reports). */
  reportIntervalMs?: number;
  /** The tracking event that carries a request's outcome (default "request"); other events are not counted. */
  outcomeEvent?: string;
}

type Kind = 'boolean' | 'string' | 'number' | 'object';

export class SluiceProvider implements Provider {
  readonly metadata = { name: 'sluice' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  readonly hooks: Hook[] = [];
  readonly #o: SluiceProviderOptions;
  readonly #stream: FlagStream;
  readonly #report: EvaluationReport | null;
  #flags = new Map<string, CompiledFlag>();
  #set: EnvironmentFlagSet | null = null;
  #stale = false;
  #firstSet: { resolve: () => void; promise: Promise<void> };

  constructor(o: SluiceProviderOptions) {
    this.#o = o;
    let resolve!: () => void;
    this.#firstSet = { promise: new Promise<void>((r) => (resolve = r)), resolve };
    this.#report =
      (o.reportIntervalMs ?? 2000) > 0 ? new EvaluationReport(o.url, o.token, o.reportIntervalMs ?? 2000) : null;
    if (this.#report !== null) this.hooks.push(this.#report);
    this.#stream = new FlagStream(o.url, o.token, { onSet: (s) => this.#onSet(s), onDown: (e) => this.#onDown(e) });
  }

  /** The environment's set in hand (null before the first). */
  get flagSet(): EnvironmentFlagSet | null {
    return this.#set;
  }

  async initialize(): Promise<void> {
    this.#stream.start();
    const timeout = this.#o.initTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#firstSet.promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no flag set from ${this.#o.url} within ${timeout} ms`)), timeout);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  async onClose(): Promise<void> {
    this.#stream.close();
    await this.#report?.close();
  }

  /**
   * OpenFeature tracking: a `request` event (outcomeEvent) is one request's outcome, counted under
   * the variant each flag of the set serves this context (evaluated as for the request itself).
   */
  track(name: string, ctx: EvaluationContext, details: TrackingEventDetails): void {
    if (this.#report === null || name !== (this.#o.outcomeEvent ?? 'request')) return;
    const failed =
      typeof details.error === 'boolean' ? details.error : typeof details.status === 'number' && details.status >= 500;
    const now = Date.now();
    for (const [key, flag] of this.#flags) {
      try {
        this.#report.outcome(key, evaluate(flag, ctx, now).variant, failed, details.value);
      } catch {
        // A context the flag cannot read is not the application's failure: that flag gets no outcome.
      }
    }
  }

  #onSet(s: EnvironmentFlagSet): void {
    const before = this.#set;
    this.#flags = compileEnvironment(s);
    this.#set = s;
    if (before === null) {
      this.#firstSet.resolve();
      return;
    }
    if (this.#stale) {
      this.#stale = false;
      this.events.emit(ProviderEvents.Ready, { message: 'the flag stream is back' });
    }
    const old = new Map(before.flags.map((f) => [f.name, JSON.stringify(f)]));
    const changed = s.flags.filter((f) => old.get(f.name) !== JSON.stringify(f)).map((f) => f.name);
    const removed = before.flags.map((f) => f.name).filter((n) => !s.flags.some((f) => f.name === n));
    if (changed.length + removed.length > 0 || before.version !== s.version)
      this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: [...changed, ...removed] });
  }

  #onDown(error: Error): void {
    if (this.#set === null) {
      this.events.emit(ProviderEvents.Error, { message: `no flag set yet: ${error.message}` });
      return;
    }
    if (this.#stale) return;
    this.#stale = true;
    this.events.emit(ProviderEvents.Stale, {
      message: `serving the last flag set (version ${this.#set.version}): ${error.message}`,
    });
  }

  #resolve<T>(key: string, fallback: T, kind: Kind, ctx: EvaluationContext): ResolutionDetails<T> {
    const flag = this.#flags.get(key);
    if (flag === undefined) {
      return {
        value: fallback,
        reason: StandardResolutionReasons.ERROR,
        errorCode: ErrorCode.FLAG_NOT_FOUND,
        errorMessage: `no flag "${key}" in ${this.#set?.environment ?? 'the set (none yet)'}`,
      };
    }
    const r = evaluate(flag, ctx, Date.now());
    const got: Kind = typeof r.value === 'object' ? 'object' : (typeof r.value as Kind);
    if (got !== kind) {
      return {
        value: fallback,
        reason: StandardResolutionReasons.ERROR,
        errorCode: ErrorCode.TYPE_MISMATCH,
        errorMessage: `flag "${key}" is ${got}, asked as ${kind}`,
      };
    }
    return {
      value: r.value as T,
      variant: r.variant,
      reason: this.#stale ? StandardResolutionReasons.STALE : r.reason,
      flagMetadata: r.rule === null ? {} : { rule: r.rule },
    };
  }

  async resolveBooleanEvaluation(
    key: string,
    fallback: boolean,
    ctx: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    return this.#resolve(key, fallback, 'boolean', ctx);
  }

  async resolveStringEvaluation(
    key: string,
    fallback: string,
    ctx: EvaluationContext,
  ): Promise<ResolutionDetails<string>> {
    return this.#resolve(key, fallback, 'string', ctx);
  }

  async resolveNumberEvaluation(
    key: string,
    fallback: number,
    ctx: EvaluationContext,
  ): Promise<ResolutionDetails<number>> {
    return this.#resolve(key, fallback, 'number', ctx);
  }

  async resolveObjectEvaluation<T extends JsonValue>(
    key: string,
    fallback: T,
    ctx: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    return this.#resolve(key, fallback, 'object', ctx);
  }
}
