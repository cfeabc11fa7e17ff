import { describeStep } from '../release/strategy.ts';
import type { ServiceEvent } from '../events.ts';
import { describeGovernanceEvent } from '../plan/events.ts';
import type { TimelineEntry } from './types.ts';

const weights = (w: Record<string, number>) =>
  Object.entries(w)
    .map(([k, v]) => `rev ${k} ${v}%`)
    .join(', ');

/** A sentence for the events a release's documents show; null for the ones they leave out (each evaluation, instance details). */
export function describeForTimeline(e: ServiceEvent): string | null {
  switch (e.type) {
    case 'release.started':
      return `release ${e.release.number} started: ${e.release.from?.version ?? 'nothing'} → ${e.release.to.version} (${e.release.kind})`;
    case 'target.ready':
      return `revision ${e.key} ready (${e.instances.length} instance(s))`;
    case 'target.failed':
      return `revision ${e.key} failed to start: ${e.error}`;
    case 'step.started':
      return `step ${e.index + 1} started${e.step === null ? '' : `: ${describeStep(e.step)}`}`;
    case 'traffic.applied':
      return `router serves ${weights(e.weights)}`;
    case 'release.paused':
      return `paused (${e.reason}): ${e.detail}`;
    case 'release.resumed':
      return 'resumed';
    case 'release.promoted':
      return `promoted${e.full ? ' to 100%' : ''} from step ${e.fromStep + 1}${e.reason ? `: ${e.reason}` : ''}${e.withoutEvidence?.length ? ` (without evidence for ${e.withoutEvidence.join(', ')})` : ''}`;
    case 'release.verifying':
      return 'all traffic on the new version; verifying';
    case 'release.succeeded':
      return `succeeded: ${e.stable.version} is stable`;
    case 'release.failed':
      return `failed: ${e.error}`;
    case 'rollback.started':
      return `rollback started (${e.log.kind}, trigger ${e.log.trigger}): ${e.log.reason}`;
    case 'rollback.trafficReverted':
      return 'traffic reverted: all requests on the stable version';
    case 'rollback.canaryStopped':
      return 'canary stopped';
    case 'smoke.finished':
      return `smoke check ${e.index + 1} ${e.ok ? 'passed' : 'failed'}: ${e.detail}`;
    case 'probe.failed':
      return `instance ${e.instanceId} failed ${e.failures} probe(s)`;
    case 'driver.failed':
      return `${e.driver} ${e.operation} failed: ${e.error}`;
    case 'signal.received':
      return `signal ${e.signal}${e.source ? ` from ${e.source}` : ''}`;
    case 'plan.requested':
    case 'gate.evaluated':
    case 'plan.decided':
    case 'postmortem.opened':
      return describeGovernanceEvent(e, e.actor);
    case 'approval.given':
      return `${e.approval.by} approved`;
    case 'gate.overridden':
      return `${e.override.by} overrode gate ${e.override.gate}: ${e.override.reason}`;
    case 'analysis.evaluated': {
      const failed = e.verdicts.filter((v) => v.outcome === 'Fail');
      return failed.length === 0 ? null : `verdict Fail: ${failed.map((v) => v.rule).join(', ')}`;
    }
    default:
      return null;
  }
}

export function timelineOf(events: readonly ServiceEvent[], startedAt: number): TimelineEntry[] {
  return events.flatMap((e) => {
    const text = describeForTimeline(e);
    return text === null
      ? []
      : [
          {
            seq: e.seq,
            at: new Date(e.at).toISOString(),
            offsetMs: e.at - startedAt,
            type: e.type,
            actor: e.actor,
            text,
          },
        ];
  });
}
