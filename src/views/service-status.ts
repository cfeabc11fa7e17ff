import { isActive, phaseOf, type ReleaseState, type ServiceState } from '../core/release/state.ts';
import { describeStep } from '../core/release/strategy.ts';
import type { Phase, RollbackLog, Verdict } from '../core/types.ts';

/** The API's and CLI's view of a service: what `sluice status -o json` prints. Times are ISO strings. */
export interface ServiceStatus {
  service: string;
  phase: Phase;
  stableVersion: string | null;
  stableRevision: string | null;
  canaryVersion: string | null;
  canaryRevision: string | null;
  /** Percent per version label (the revision key is appended when two revisions share a label). */
  weights: Record<string, number>;
  /** What the router confirmed it serves; differs from `weights` only while a change propagates. */
  appliedWeights: Record<string, number>;
  step: { index: number; total: number; current: string | null; startedAt: string } | null;
  release: ReleaseView | null;
  /** The latest verdict of each rule of the active (or last) release. */
  verdicts: VerdictView[];
  lastRollback: RollbackView | null;
  instances: Record<string, { id: string; url: string }[]>;
  degraded: string | null;
  /** Drivers failing right now (retried by the engine): which, doing what, the error, since when (ISO). */
  problems: { driver: string; operation: string; error: string; since: string; at: string }[];
  /** A release waiting for its release window: the version, why, until when (ISO), who asked. */
  waiting: {
    version: string;
    revision: string;
    reason: string;
    until: string | null;
    since: string;
    by: string;
  } | null;
  /** Replicated servers only: the replica running this release and its lease epoch (null: no live lease). */
  controller?: { replica: string; epoch: number } | null;
}

export type VerdictView = Omit<Verdict, 'at'> & { at: string };

export type RollbackView = Omit<
  RollbackLog,
  'detectedAt' | 'trafficRevertedAt' | 'canaryStoppedAt' | 'verdicts' | 'hosts'
> & {
  /** A router over several hosts: when each host confirmed the revert (null: not yet). */
  hosts?: Record<string, string | null>;
  release: string;
  detectedAt: string;
  trafficRevertedAt: string | null;
  canaryStoppedAt: string | null;
  verdicts: VerdictView[];
};

export interface ReleaseView {
  id: string;
  number: number;
  kind: ReleaseState['kind'];
  status: ReleaseState['status'];
  fromVersion: string | null;
  toVersion: string;
  fromRevision: string | null;
  toRevision: string;
  startedAt: string;
  startedBy: string;
  endedAt: string | null;
  durationMs: number | null;
  pause: { reason: string; detail: string; by: string; at: string } | null;
  error: string | null;
  rollback: RollbackView | null;
}

const iso = (t: number) => new Date(t).toISOString();
const isoOrNull = (t: number | null) => (t === null ? null : iso(t));

function verdictView(v: Verdict): VerdictView {
  return { ...v, at: iso(v.at) };
}

function rollbackView(r: ReleaseState, { hosts, ...log }: RollbackLog): RollbackView {
  return {
    ...log,
    release: r.id,
    detectedAt: iso(log.detectedAt),
    trafficRevertedAt: isoOrNull(log.trafficRevertedAt),
    canaryStoppedAt: isoOrNull(log.canaryStoppedAt),
    verdicts: log.verdicts.map(verdictView),
    ...(hosts && { hosts: Object.fromEntries(Object.entries(hosts).map(([h, at]) => [h, isoOrNull(at)])) }),
  };
}

export function releaseView(r: ReleaseState): ReleaseView {
  return {
    id: r.id,
    number: r.number,
    kind: r.kind,
    status: r.status,
    fromVersion: r.from?.version ?? null,
    toVersion: r.to.version,
    fromRevision: r.from?.key ?? null,
    toRevision: r.to.key,
    startedAt: iso(r.startedAt),
    startedBy: r.startedBy,
    endedAt: isoOrNull(r.endedAt),
    durationMs: r.endedAt === null ? null : r.endedAt - r.startedAt,
    pause: r.pause === null ? null : { ...r.pause, at: iso(r.pause.at) },
    error: r.error,
    rollback: r.rollback === null ? null : rollbackView(r, r.rollback),
  };
}

export function historyOf(releases: ReleaseState[]): ReleaseView[] {
  return releases.map(releaseView);
}

/** `pastRollback`: the newest earlier release that rolled back, when the current one did not. */
export function statusOf(state: ServiceState, pastRollback?: ReleaseState): ServiceStatus {
  const r = state.release;
  const active = isActive(r) ? r : null;
  const labels = new Map<string, string>();
  for (const [key, rt] of Object.entries(state.runtimes)) labels.set(key, rt.version);
  if (state.stable) labels.set(state.stable.key, state.stable.version);
  if (r) labels.set(r.to.key, r.to.version);
  const counts = new Map<string, number>();
  for (const v of labels.values()) counts.set(v, (counts.get(v) ?? 0) + 1);
  const label = (key: string) => {
    const v = labels.get(key) ?? key;
    return (counts.get(v) ?? 0) > 1 ? `${v} (r${key})` : v;
  };
  const byLabel = (w: Record<string, number>) =>
    Object.fromEntries(Object.entries(w).map(([key, pct]) => [label(key), pct]));
  const weights = byLabel(state.weights);
  const instances: ServiceStatus['instances'] = {};
  for (const [key, rt] of Object.entries(state.runtimes))
    instances[label(key)] = rt.instances.map(({ id, url }) => ({ id, url }));
  const withLog = r?.rollback ? r : pastRollback?.rollback ? pastRollback : null;
  return {
    service: state.service,
    phase: phaseOf(state),
    stableVersion: state.stable?.version ?? null,
    stableRevision: state.stable?.key ?? null,
    canaryVersion: active && active.from !== null ? active.to.version : null,
    canaryRevision: active && active.from !== null ? active.to.key : null,
    weights,
    appliedWeights: byLabel(state.appliedWeights),
    step:
      active && active.status !== 'Starting' && active.from !== null
        ? {
            index: active.stepIndex,
            total: active.steps.length,
            current: describeStep(active.steps[active.stepIndex]),
            startedAt: iso(active.stepStartedAt),
          }
        : null,
    release: r ? releaseView(r) : null,
    // The verdicts of the release in progress; an ended release's are in its history and rollback log.
    verdicts: active ? Object.values(active.rules).flatMap((s) => (s.last ? [verdictView(s.last)] : [])) : [],
    lastRollback: withLog?.rollback ? rollbackView(withLog, withLog.rollback) : null,
    instances,
    degraded: state.degraded,
    problems: Object.entries(state.problems ?? {}).map(([driver, p]) => ({
      driver,
      operation: p!.operation,
      error: p!.error,
      since: iso(p!.since),
      at: iso(p!.at),
    })),
    waiting: state.waiting
      ? {
          version: state.waiting.revision.version,
          revision: state.waiting.revision.key,
          reason: state.waiting.reason,
          until: state.waiting.until === null ? null : iso(state.waiting.until),
          since: iso(state.waiting.since),
          by: state.waiting.by,
        }
      : null,
  };
}
