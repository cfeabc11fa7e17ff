import type { ServiceEvent } from '../events.ts';

/** Upper bounds (seconds) of the time-to-revert histogram. */
export const REVERT_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

/**
 * Counters folded from the log for `GET /metrics`. The accumulator is mutated in place (one per
 * server, fed every committed event); reading it renders the Prometheus text format.
 */
export interface ReleaseMetrics {
  releasesStarted: Map<string, number>;
  /** service \0 outcome (succeeded, rolled_back, aborted, failed) */
  releasesEnded: Map<string, number>;
  /** service \0 kind (contract, abort, readiness, crash) */
  rollbacks: Map<string, number>;
  /** Per service: counts per bucket (the last is +Inf), the sum and the count. */
  revert: Map<string, { buckets: number[]; sum: number; count: number }>;
  /** service \0 rule \0 outcome */
  verdicts: Map<string, number>;
  /** service \0 driver */
  driverErrors: Map<string, number>;
  /** The detection time of each service's rollback in progress, to time the revert. */
  pendingRevert: Map<string, number>;
}

export const emptyReleaseMetrics = (): ReleaseMetrics => ({
  releasesStarted: new Map(),
  releasesEnded: new Map(),
  rollbacks: new Map(),
  revert: new Map(),
  verdicts: new Map(),
  driverErrors: new Map(),
  pendingRevert: new Map(),
});

const bump = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);

export function foldReleaseMetrics(m: ReleaseMetrics, e: ServiceEvent): void {
  switch (e.type) {
    case 'release.started':
      bump(m.releasesStarted, e.service);
      break;
    case 'release.succeeded':
      bump(m.releasesEnded, `${e.service}\0succeeded`);
      break;
    case 'release.failed':
      bump(m.releasesEnded, `${e.service}\0failed`);
      break;
    case 'rollback.started':
      bump(m.rollbacks, `${e.service}\0${e.log.kind}`);
      bump(m.releasesEnded, `${e.service}\0${e.status === 'Aborted' ? 'aborted' : 'rolled_back'}`);
      m.pendingRevert.set(e.service, e.log.detectedAt);
      break;
    case 'rollback.trafficReverted': {
      const detected = m.pendingRevert.get(e.service);
      if (detected === undefined) break;
      m.pendingRevert.delete(e.service);
      const s = Math.max(0, (e.at - detected) / 1000);
      const h = m.revert.get(e.service) ?? {
        buckets: new Array<number>(REVERT_BUCKETS_S.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      const i = REVERT_BUCKETS_S.findIndex((b) => s <= b);
      h.buckets[i < 0 ? REVERT_BUCKETS_S.length : i]!++;
      h.sum += s;
      h.count++;
      m.revert.set(e.service, h);
      break;
    }
    case 'analysis.evaluated':
      for (const v of e.verdicts) bump(m.verdicts, `${e.service}\0${v.rule}\0${v.outcome}`);
      break;
    case 'driver.failed':
      bump(m.driverErrors, `${e.service}\0${e.driver}`);
      break;
    default:
      break;
  }
}

/** A label value in the text format: backslash, double quote and newline escaped. */
const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (names: readonly string[], key: string) => {
  const values = key.split('\0');
  return `{${names.map((n, i) => `${n}="${label(values[i] ?? '')}"`).join(',')}}`;
};

function counter(out: string[], name: string, help: string, names: readonly string[], m: Map<string, number>): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
  for (const [k, v] of [...m].sort(([a], [b]) => (a < b ? -1 : 1))) out.push(`${name}${labels(names, k)} ${v}`);
}

/** The Prometheus text exposition format (version 0.0.4) of the counters and the services' current phases. */
export function renderPrometheus(m: ReleaseMetrics, phases: readonly { service: string; phase: string }[]): string {
  const out: string[] = [
    '# HELP sluice_services Services by the phase of their current release.',
    '# TYPE sluice_services gauge',
  ];
  const byPhase = new Map<string, number>();
  for (const p of phases) bump(byPhase, p.phase);
  for (const [phase, n] of [...byPhase].sort()) out.push(`sluice_services{phase="${label(phase)}"} ${n}`);
  out.push('# HELP sluice_service_phase 1 for the phase each service is in.', '# TYPE sluice_service_phase gauge');
  for (const p of phases) out.push(`sluice_service_phase{service="${label(p.service)}",phase="${label(p.phase)}"} 1`);
  counter(out, 'sluice_releases_started_total', 'Releases started.', ['service'], m.releasesStarted);
  counter(
    out,
    'sluice_releases_ended_total',
    'Releases ended, by outcome (succeeded, rolled_back, aborted, failed).',
    ['service', 'outcome'],
    m.releasesEnded,
  );
  counter(
    out,
    'sluice_rollbacks_total',
    'Rollbacks, by kind (contract, abort, readiness, crash).',
    ['service', 'kind'],
    m.rollbacks,
  );
  out.push(
    "# HELP sluice_time_to_revert_seconds From a rollback's detection to the router serving the stable version.",
    '# TYPE sluice_time_to_revert_seconds histogram',
  );
  for (const [service, h] of [...m.revert].sort(([a], [b]) => (a < b ? -1 : 1))) {
    let cumulative = 0;
    REVERT_BUCKETS_S.forEach((b, i) => {
      cumulative += h.buckets[i]!;
      out.push(`sluice_time_to_revert_seconds_bucket{service="${label(service)}",le="${b}"} ${cumulative}`);
    });
    out.push(`sluice_time_to_revert_seconds_bucket{service="${label(service)}",le="+Inf"} ${h.count}`);
    out.push(`sluice_time_to_revert_seconds_sum{service="${label(service)}"} ${h.sum}`);
    out.push(`sluice_time_to_revert_seconds_count{service="${label(service)}"} ${h.count}`);
  }
  counter(
    out,
    'sluice_verdicts_total',
    "Verdicts of the rollback contract's rules, by outcome.",
    ['service', 'rule', 'outcome'],
    m.verdicts,
  );
  counter(
    out,
    'sluice_driver_errors_total',
    'Driver calls that failed (recorded as driver.failed), by driver.',
    ['service', 'driver'],
    m.driverErrors,
  );
  return `${out.join('\n')}\n`;
}

/** Evaluations of one variant of a flag in one environment, as applications reported them (the SDK hook). */
export interface FlagEvaluationCount {
  environment: string;
  flag: string;
  variant: string;
  evaluations: number;
  errors: number;
}

/** Flag evaluations and their errors per environment, flag and variant, as counters (nothing when no flag was evaluated). */
export function renderFlagEvaluations(counts: readonly FlagEvaluationCount[]): string {
  if (counts.length === 0) return '';
  const names = ['environment', 'flag', 'variant'] as const;
  const key = (c: FlagEvaluationCount) => names.map((n) => c[n]).join('\0');
  const sorted = [...counts].sort((a, b) => (key(a) < key(b) ? -1 : 1));
  const out: string[] = [];
  counter(
    out,
    'sluice_flag_evaluations_total',
    'Flag evaluations reported by applications (POST /api/sdk/evaluations) since the server started, by variant.',
    names,
    new Map(sorted.map((c) => [key(c), c.evaluations])),
  );
  counter(
    out,
    'sluice_flag_evaluation_errors_total',
    'Errors reported with those evaluations, by variant.',
    names,
    new Map(sorted.map((c) => [key(c), c.errors])),
  );
  return `${out.join('\n')}\n`;
}
