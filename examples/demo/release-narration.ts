/**
 * Turns the server's event stream into the demo's running commentary: traffic shifts with their
 * weights, each rule's verdict when it changes, and the rollback as it happens. Events name
 * revisions by key; this keeps the key → version map to speak in versions.
 */
import type { ServiceEvent } from '../../src/core/events.ts';
import { describeBound } from '../../src/core/analysis/figures.ts';
import type { Verdict, Weights } from '../../src/core/types.ts';
import type { Narrator } from './narrator.ts';
import { percent } from './narrator.ts';

/** A metric's value as a person reads it: rates in percent, latencies in ms. */
export function figure(metric: string, value: number | null): string {
  if (value === null) return 'n/a';
  if (metric === 'error_rate') return percent(value);
  if (metric.startsWith('latency_')) return `${value.toFixed(1)} ms`;
  if (metric === 'request_rate') return `${value.toFixed(1)} req/s`;
  return String(value);
}

/** One rule's verdict in a short line: "Fail: canary 7.7% vs baseline 0.0%, limit 2.0% (39 canary / 1374 baseline requests)". */
export function verdictLine(v: Verdict | Omit<Verdict, 'at'>): string {
  if (v.outcome === 'Inconclusive' || v.canary === null) return `${v.outcome}: ${v.reason}`;
  const baseline = v.baseline === null ? '' : ` vs baseline ${figure(v.metric, v.baseline)}`;
  const samples =
    v.baseline === null ? `${v.canarySamples}` : `${v.canarySamples} canary / ${v.baselineSamples} baseline`;
  // With evidence: the canary's confidence bound against what the rule allows, e.g. "canary ≤ 1.30% at 99.5% confidence; allowed ≤ 2.00%".
  const bound = describeBound(v);
  const against = bound === null ? `limit ${figure(v.metric, v.threshold)}` : bound;
  return `${v.outcome}: canary ${figure(v.metric, v.canary)}${baseline}, ${against} (${samples} requests)`;
}

export class ReleaseNarration {
  readonly #say: Narrator;
  readonly #versions = new Map<string, string>();
  readonly #outcomes = new Map<string, Verdict['outcome']>();
  #detectedAt: number | null = null;

  constructor(narrator: Narrator) {
    this.#say = narrator;
  }

  versionOf = (key: string): string => this.#versions.get(key) ?? `revision ${key}`;

  onEvent(e: ServiceEvent): void {
    const n = this.#say;
    switch (e.type) {
      case 'spec.applied':
        if (e.revision) this.#versions.set(e.revision.key, e.revision.version);
        return;
      case 'release.started':
        this.#versions.set(e.release.to.key, e.release.to.version);
        if (e.release.from) this.#versions.set(e.release.from.key, e.release.from.version);
        this.#outcomes.clear();
        this.#detectedAt = null;
        return;
      case 'target.starting':
        this.#versions.set(e.ref.key, e.ref.version);
        return n.say(`starting the instances of ${e.ref.version}`, 'plain', e.at);
      case 'target.ready': {
        const pids = e.instances.map((i) => i.detail?.pid).filter((p) => p !== undefined);
        return n.say(
          `${this.versionOf(e.key)} is ready: ${e.instances.length} instances passed their readiness check (pids ${pids.join(', ')})`,
          'plain',
          e.at,
        );
      }
      case 'step.started':
        if (e.step?.kind !== 'pause') return;
        return n.say(
          e.step.durationMs === null
            ? 'pausing until someone promotes'
            : `holding for ${e.step.durationMs / 1000} s while the contract watches`,
          'plain',
          e.at,
        );
      case 'traffic.shifted':
        n.say(`traffic: ${this.#weights(e.weights)}`, 'plain', e.at);
        return n.detail(`(${e.reason})`);
      case 'analysis.evaluated':
        return this.#verdicts(e.verdicts, e.at);
      case 'release.paused':
        if (e.reason !== 'step') n.say(`release paused (${e.reason}): ${e.detail}`, 'warn', e.at);
        return;
      case 'release.promoted':
        return n.say(`promoted${e.full ? ' to 100%' : ''} by ${e.actor}`, 'plain', e.at);
      case 'release.succeeded':
        return n.say(`${e.stable.version} is the stable version now`, 'good', e.at);
      case 'release.failed':
        return n.say(`the release failed: ${e.error}`, 'bad', e.at);
      case 'rollback.started':
        this.#detectedAt = e.log.detectedAt;
        return n.say(
          `ROLLBACK: rule ${e.log.trigger} failed, Sluice moves all traffic back to the stable version`,
          'bad',
          e.at,
        );
      case 'rollback.trafficReverted':
        return n.say(
          `traffic reverted${this.#since(e.at)}: the stable version answers every request again`,
          'good',
          e.at,
        );
      case 'target.stopping':
        return n.say(`stopping the instances of ${this.versionOf(e.key)} (draining in-flight requests)`, 'plain', e.at);
      case 'target.stopped':
        return n.say(
          `instances of ${this.versionOf(e.key)} stopped${e.error ? `, with an error: ${e.error}` : ''}`,
          e.error ? 'warn' : 'plain',
          e.at,
        );
      case 'rollback.canaryStopped':
        return n.say(`canary stopped${this.#since(e.at)}`, 'plain', e.at);
      case 'target.failed':
        return n.say(`${this.versionOf(e.key)} failed to start: ${e.error}`, 'bad', e.at);
      case 'target.crashed':
        return n.say(
          `an instance of ${this.versionOf(e.key)} crashed (${e.signal ?? `exit code ${e.exitCode}`})${e.restarted ? ', restarted' : ''}`,
          'warn',
          e.at,
        );
      case 'driver.failed':
        return n.say(`${e.driver} driver: ${e.operation} failed, will retry: ${e.error}`, 'warn', e.at);
      case 'service.degraded':
        return n.say(`service degraded: ${e.reason}`, 'bad', e.at);
      case 'service.recovered':
        return n.say('service recovered', 'good', e.at);
      default:
        // traffic.applied, release.resumed, service.deleted: nothing a viewer needs to read
        return;
    }
  }

  #weights(weights: Weights): string {
    const shares = Object.entries(weights)
      .filter(([, w]) => w > 0)
      .map(([key, w]) => ({ version: this.versionOf(key), w }));
    if (shares.length === 1 && shares[0]) return `all on ${shares[0].version}`;
    return shares.map((s) => `${s.version} ${s.w}%`).join(' · ');
  }

  /** One line per rule whose outcome changed; Inconclusive → Inconclusive repeats say nothing new. */
  #verdicts(verdicts: Verdict[], at: number): void {
    for (const v of verdicts) {
      if (this.#outcomes.get(v.rule) === v.outcome) continue;
      this.#outcomes.set(v.rule, v.outcome);
      const tone = v.outcome === 'Pass' ? 'good' : v.outcome === 'Fail' ? 'bad' : 'dim';
      this.#say.say(`contract ${v.rule} ${verdictLine(v)}`, tone, at);
    }
  }

  #since(at: number): string {
    return this.#detectedAt === null ? '' : ` ${at - this.#detectedAt} ms after detection`;
  }
}
