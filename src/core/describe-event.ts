/**
 * One sentence per event, for the people reading a notification or the dashboard's activity log.
 * Pure. The switch is exhaustive: a new event type in events.ts does not compile until it has a sentence.
 */
import { describeMigrationEvent } from './migrations/events.ts';
import { describeTrainEvent } from './trains/index.ts';
import type { EventBody } from './events.ts';
import { describeFlagEvent } from './flags/events.ts';
import { describeDrillEvent } from './drills/events.ts';
import { describeGovernanceEvent } from './plan/events.ts';
import type { ReleaseStep } from './release/strategy.ts';
import type { Weights } from './types.ts';

/** Revision key → version, to name revisions as people know them. */
export type Versions = Record<string, string>;

function step(s: ReleaseStep | null): string {
  if (s === null) return 'all steps done';
  switch (s.kind) {
    case 'setWeight':
      return `setWeight ${s.weight}%`;
    case 'pause':
      return s.durationMs === null ? 'pause until promoted' : `pause ${s.durationMs / 1000}s`;
    case 'setHeaderRoute':
      return s.match === null ? 'clear the cohort route' : 'route a cohort to the new version';
    case 'smoke':
      return 'smoke check';
    case 'analysis':
      return 'wait for every rule to pass';
    case 'setFlag':
      return `expose flag ${s.flag} to ${s.percent}% in ${s.environment}`;
    default:
      return (s as { kind: string }).kind;
  }
}

/**
 * What happened, in one sentence. `versions` names revisions by their version where known
 * (the dashboard knows them; a notification names the revision key).
 */
export function describeEvent(e: EventBody, actor: string, versions: Versions = {}): string {
  const weights = (w: Weights) =>
    Object.entries(w)
      .map(([key, percent]) => `${versions[key] ?? `revision ${key}`} ${percent}%`)
      .join(', ');
  switch (e.type) {
    case 'spec.applied':
      return e.revision
        ? `spec applied by ${actor}: revision ${e.revision.key} (version ${e.revision.version})`
        : `spec applied by ${actor}, no new revision`;
    case 'release.started':
      return `release #${e.release.number} started by ${actor}: ${e.release.from ? `${e.release.from.version} → ` : 'first deploy of '}${e.release.to.version}`;
    case 'target.starting':
      return `starting revision ${e.ref.key} (version ${e.ref.version})`;
    case 'target.ready':
      return `revision ${e.key} is ready: ${e.instances.length} instance(s)`;
    case 'target.failed':
      return `revision ${e.key} failed to start: ${e.error}`;
    case 'target.crashed':
      return `an instance of revision ${e.key} crashed (${e.signal ?? `exit code ${e.exitCode}`})${e.restarted ? ', restarted' : ''}`;
    case 'target.stopping':
      return `stopping revision ${e.key}`;
    case 'target.stopped':
      return e.error ? `revision ${e.key} stopped with an error: ${e.error}` : `revision ${e.key} stopped`;
    case 'target.retireScheduled':
      return `revision ${e.key} kept running until ${new Date(e.until).toISOString()}`;
    case 'routes.set':
      return e.routes.length === 0
        ? `cohort routes cleared (${e.reason})`
        : `${e.routes.length} cohort route(s) set (${e.reason})`;
    case 'contract.frozen':
      return `baseline figures frozen: ${e.detail}`;
    case 'smoke.started':
      return `smoke check ${e.index + 1} started`;
    case 'smoke.finished':
      return `smoke check ${e.index + 1} ${e.ok ? 'passed' : 'failed'} in ${e.durationMs} ms: ${e.detail}`;
    case 'probe.failed':
      return `instance ${e.instanceId} of revision ${e.key} failed ${e.failures} probe(s) in a row (${e.url})`;
    case 'release.verifying':
      return `all traffic on the new version; watching it until ${new Date(e.until).toISOString()}`;
    case 'rollback.gradual':
      return `reverting gradually: ${e.steps.join('% → ')}%`;
    case 'rollback.gradualRefused':
      return `gradual revert refused, reverting at once: ${e.reason}`;
    case 'token.created':
      return `token ${e.name} (${e.role}) created`;
    case 'token.revoked':
      return `token ${e.name} revoked`;
    case 'policy.applied':
      return `release policy ${e.name} applied: ${e.windows} window(s), ${e.freezes} freeze(s)`;
    case 'serverPolicy.applied':
      return `server policy set: executables ${e.allowExec?.join(', ') ?? 'any'}; hosts ${e.allowUrlHosts?.join(', ') ?? 'any'}`;
    case 'analytics.imported':
      return `analytics history imported (${e.source}): ${e.added} added, ${e.unchanged} unchanged, ${e.updated} updated, ${e.rejected} rejected`;
    case 'retrospective.opened':
      return `retrospective ${e.id} opened for the ${e.trigger} of ${e.target}${e.release === null ? '' : ` release ${e.release}`}: ${e.reason}`;
    case 'report.weekly':
    case 'flag.staleDigest':
      return `${e.title}\n\n${e.markdown}`;
    case 'release.waiting':
      return `release of ${e.revision.version} waits for its window: ${e.reason}${e.until === null ? '' : ` (until ${new Date(e.until).toISOString()})`}`;
    case 'release.waitEnded':
      return `the wait for ${e.revision.version} ended: ${e.outcome} (${e.detail})`;
    case 'command.requested':
      return `${e.command} of ${e.target} sent on by replica ${e.replica} to the replica running it`;
    case 'command.answered':
      return `replica ${e.replica} ${e.error === null ? 'carried out' : `refused (${e.error.message})`} the command sent on for ${e.target}`;
    case 'signal.received':
      return `signal ${e.signal}${e.source ? ` from ${e.source}` : ''}${e.detail ? `: ${e.detail}` : ''}`;
    case 'step.started':
      return `step ${e.index + 1}: ${step(e.step)}`;
    case 'traffic.shifted':
      return `traffic: ${weights(e.weights)} (${e.reason})`;
    case 'traffic.applied':
      return `the router serves ${weights(e.weights)}`;
    case 'analysis.evaluated':
      return `analysis: ${e.verdicts.map((v) => `${v.rule} ${v.outcome}`).join(', ') || 'no rules'}${e.metricsError ? ` (metrics error: ${e.metricsError})` : ''}`;
    case 'release.paused':
      return `release paused (${e.reason}): ${e.detail}`;
    case 'release.resumed':
      return `release resumed by ${actor}`;
    case 'release.promoted':
      return `release promoted ${e.full ? 'to 100%' : `from step ${e.fromStep + 1}`} by ${actor}`;
    case 'release.completing':
      return 'moving all traffic to the new version';
    case 'release.succeeded':
      return `release succeeded: ${e.stable.version} is stable`;
    case 'release.failed':
      return `release failed: ${e.error}`;
    case 'rollback.started':
      return e.status === 'Aborted'
        ? `release aborted by ${e.log.actor}: ${e.log.reason}`
        : `rolling back (${e.log.kind}, ${e.log.trigger}): ${e.log.reason}`;
    case 'rollback.trafficReverted':
      return 'all traffic is back on the stable version';
    case 'rollback.canaryStopped':
      return 'the canary is stopped';
    case 'service.degraded':
      return `service degraded: ${e.reason}`;
    case 'service.recovered':
      return 'service recovered';
    case 'driver.failed':
      return `${e.driver} driver failed to ${e.operation}: ${e.error}`;
    case 'router.died':
      return `the data plane died: ${e.detail}`;
    case 'router.restarted':
      return `the data plane serves again (pid ${e.pid}, ${e.downMs} ms after its death was seen)`;
    case 'router.drifted':
      return `the router served another table than Sluice's; re-asserted: ${e.differences.join('; ')}`;
    case 'router.hostsApplied':
      return `${Object.keys(e.applied).join(', ') || 'no host'} confirmed ${JSON.stringify(e.weights)}${
        Object.keys(e.unreachable).length > 0
          ? `; not confirmed: ${Object.entries(e.unreachable)
              .map(([h, m]) => `${h} (${m})`)
              .join(', ')}`
          : ''
      }`;
    case 'service.deleted':
      return `service deleted by ${actor}`;
    case 'environments.applied':
    case 'plan.requested':
    case 'gate.evaluated':
    case 'plan.decided':
    case 'approval.given':
    case 'gate.overridden':
    case 'postmortem.opened':
      return describeGovernanceEvent(e, actor);
    case 'train.started':
    case 'train.scheduled':
    case 'train.approved':
    case 'train.rejected':
    case 'train.windowClosed':
    case 'train.windowOpened':
    case 'train.serviceStarted':
    case 'train.serviceDone':
    case 'train.serviceFailed':
    case 'train.rollbackStarted':
    case 'train.serviceRolledBack':
    case 'train.held':
    case 'train.rollingBack':
    case 'train.ended':
      return describeTrainEvent(e);
    case 'migration.rehearsed':
    case 'migration.ran':
      return describeMigrationEvent(e);
    case 'flag.applied':
    case 'flag.percentSet':
    case 'flag.enabled':
    case 'flag.disabled':
    case 'flag.rolledBack':
    case 'flag.paused':
    case 'flag.resumed':
    case 'flag.archived':
    case 'segment.applied':
      return describeFlagEvent(e, actor);
    case 'drill.started':
    case 'drill.faultsSet':
    case 'drill.faultsCleared':
    case 'drill.instanceFault':
    case 'drill.instanceAnswering':
    case 'drill.traffic':
    case 'drill.steadyState':
    case 'drill.stopped':
    case 'drill.finished':
    case 'drill.signedOff':
    case 'drill.rehearsed':
    case 'drill.scheduled':
    case 'drill.unscheduled':
    case 'drill.remind':
    case 'drill.scheduledRun':
      return describeDrillEvent(e, actor);
    default:
      return assertNever(e);
  }
}

function assertNever(e: never): string {
  return `event ${(e as { type: string }).type}`;
}
