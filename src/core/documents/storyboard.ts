import { describeStep } from '../release/strategy.ts';
import type { ServiceEvent } from '../events.ts';
import type { DocumentKind, GeneratedFrom, ReleaseDocInput } from './types.ts';

/** The frames of a release's storyboard, in order (docs/documents.md). */
export const FRAMES = ['Plan', 'Stage', 'Release', 'Verify', 'Rollback'] as const;
export type FrameName = (typeof FRAMES)[number];

/**
 * A checklist item: done (`true`), not done (`false`: it failed, or the release ended without it),
 * or not applicable / not yet (`null`), with what the log says.
 */
export interface ChecklistItem {
  item: string;
  done: boolean | null;
  detail: string;
}

/** `done`: every item held; `failed`: one did not; `skipped`: the frame did not happen (no rollback); `pending`: not reached yet. */
export type FrameStatus = 'done' | 'failed' | 'skipped' | 'pending';

export interface Frame {
  frame: FrameName;
  status: FrameStatus;
  checklist: ChecklistItem[];
  /** The document the frame opens: GET /api/services/:name/documents/:kind?release=N. */
  artifact: DocumentKind;
}

export interface Storyboard {
  service: string;
  release: number;
  version: string;
  status: string;
  frames: Frame[];
  generatedFrom: GeneratedFrom;
}

const iso = (ms: number) => new Date(ms).toISOString();
const ofType = <T extends ServiceEvent['type']>(events: readonly ServiceEvent[], type: T) =>
  events.filter((e): e is Extract<ServiceEvent, { type: T }> => e.type === type);

function statusOf(items: readonly ChecklistItem[], reached: boolean): FrameStatus {
  if (items.some((i) => i.done === false)) return 'failed';
  if (!reached) return 'pending';
  return 'done';
}

function planFrame(i: ReleaseDocInput): Frame {
  const requested = ofType(i.events, 'plan.requested').at(-1);
  const gates = [...new Map(ofType(i.events, 'gate.evaluated').map((e) => [e.result.gate, e.result])).values()];
  const approvals = ofType(i.events, 'approval.given');
  const overrides = ofType(i.events, 'gate.overridden');
  const rules = i.release.contract.rules;
  const checklist: ChecklistItem[] = [
    requested === undefined
      ? { item: 'environment plan', done: null, detail: 'released directly: no environment plan, no gates' }
      : {
          item: 'environment plan',
          done: true,
          detail: `${requested.actor} asked for ${requested.plan.version} in ${requested.plan.environment} (risk ${requested.plan.risk.level}: ${requested.plan.risk.reason})`,
        },
    ...gates.map((g) => ({
      item: `gate ${g.gate}`,
      done: g.outcome === 'passed' || g.outcome === 'overridden' ? true : g.outcome === 'failed' ? false : null,
      detail: `${g.outcome}: ${g.detail}`,
    })),
    ...(requested === undefined
      ? []
      : [
          {
            item: 'approvals',
            done: approvals.length > 0 || overrides.some((o) => o.override.gate === 'approvals') ? true : null,
            detail:
              approvals.map((a) => `${a.approval.by} approved`).join(', ') ||
              (overrides.length > 0 ? 'overridden' : 'none given'),
          },
        ]),
    ...overrides.map((o) => ({
      item: `override of ${o.override.gate}`,
      done: true,
      detail: `${o.override.by}: ${o.override.reason} (post-mortem ${o.override.postmortemId})`,
    })),
    {
      item: 'rollback contract',
      done: rules.length > 0,
      detail: `${rules.length} rule(s): ${rules.map((r) => r.name).join(', ') || 'none'}`,
    },
    {
      item: 'commits known',
      done: i.commits.length > 0 ? true : null,
      detail: i.commits.length > 0 ? `${i.commits.length} commit(s)` : 'none (analytics git, apply --commit)',
    },
    {
      item: 'communication plan',
      done: i.notifications.length > 0 ? true : null,
      detail:
        i.notifications.length > 0 ? i.notifications.map((n) => n.driver).join(', ') : 'no notifications in the spec',
    },
  ];
  return { frame: 'Plan', status: statusOf(checklist, true), checklist, artifact: 'plan' };
}

function stageFrame(i: ReleaseDocInput): Frame {
  const key = i.release.to.key;
  const ready = ofType(i.events, 'target.ready').find((e) => e.key === key);
  const failed = ofType(i.events, 'target.failed').find((e) => e.key === key);
  const checklist: ChecklistItem[] = [
    ready !== undefined
      ? {
          item: `${i.release.to.version} started`,
          done: true,
          detail: `${ready.instances.length} instance(s) ready at ${iso(ready.at)}`,
        }
      : failed !== undefined
        ? { item: `${i.release.to.version} started`, done: false, detail: failed.error }
        : { item: `${i.release.to.version} started`, done: null, detail: 'not ready yet' },
  ];
  return { frame: 'Stage', status: statusOf(checklist, ready !== undefined), checklist, artifact: 'schedule' };
}

function releaseFrame(i: ReleaseDocInput, ended: boolean): Frame {
  const starts = ofType(i.events, 'step.started');
  const fails = ofType(i.events, 'analysis.evaluated').filter((e) => e.verdicts.some((v) => v.outcome === 'Fail'));
  const promoted = ofType(i.events, 'release.promoted');
  const checklist: ChecklistItem[] = i.release.steps.map((s, n) => {
    const started = starts.find((e) => e.index === n);
    return {
      item: `step ${n + 1}: ${describeStep(s)}`,
      done: started !== undefined ? true : promoted.some((p) => p.full) ? null : ended ? false : null,
      detail:
        started !== undefined
          ? `started ${iso(started.at)}`
          : promoted.some((p) => p.full)
            ? 'skipped: promoted to 100%'
            : ended
              ? 'not reached'
              : 'not yet',
    };
  });
  checklist.push({
    item: 'no failed verdict',
    done: fails.length === 0,
    detail:
      fails.length === 0
        ? 'every evaluation passed or was inconclusive'
        : `${fails.length} evaluation(s) with a Fail, first at ${iso(fails[0]!.at)}`,
  });
  const reached = starts.length > 0;
  return { frame: 'Release', status: statusOf(checklist, reached), checklist, artifact: 'comms' };
}

function verifyFrame(i: ReleaseDocInput): Frame {
  const key = i.release.to.key;
  const full = ofType(i.events, 'traffic.applied').find((e) => (e.weights[key] ?? 0) === 100);
  const verifying = ofType(i.events, 'release.verifying')[0];
  const succeeded = ofType(i.events, 'release.succeeded')[0];
  const rolledBack = i.release.rollback !== null;
  const checklist: ChecklistItem[] = [
    {
      item: 'all traffic on the new version',
      done: full !== undefined ? true : rolledBack ? false : null,
      detail: full !== undefined ? `at ${iso(full.at)}` : rolledBack ? 'rolled back before' : 'not yet',
    },
    {
      item: 'verify window',
      done: verifying !== undefined ? true : null,
      detail: verifying !== undefined ? `watched until ${iso(verifying.until)}` : 'none (no verify window)',
    },
    {
      item: 'release succeeded',
      done: succeeded !== undefined ? true : rolledBack ? false : null,
      detail: succeeded !== undefined ? `${succeeded.stable.version} stable at ${iso(succeeded.at)}` : i.release.status,
    },
  ];
  return {
    frame: 'Verify',
    status: rolledBack ? 'skipped' : statusOf(checklist, succeeded !== undefined),
    checklist: rolledBack ? checklist.filter((c) => c.done !== null) : checklist,
    artifact: 'schedule',
  };
}

function rollbackFrame(i: ReleaseDocInput): Frame {
  const log = i.release.rollback;
  if (log === null)
    return {
      frame: 'Rollback',
      status: 'skipped',
      checklist: [{ item: 'rolled back', done: null, detail: `not rolled back (${i.release.status})` }],
      artifact: 'rollback',
    };
  const checklist: ChecklistItem[] = [
    {
      item: 'failure detected',
      done: true,
      detail: `${log.kind} on ${log.trigger} at ${iso(log.detectedAt)}: ${log.reason}`,
    },
    {
      item: 'traffic reverted',
      done: log.trafficRevertedAt !== null,
      detail:
        log.trafficRevertedAt === null
          ? 'not yet'
          : `at ${iso(log.trafficRevertedAt)}, ${log.trafficRevertedAt - log.detectedAt} ms after detection`,
    },
    {
      item: 'canary stopped',
      done: log.canaryStoppedAt !== null ? true : null,
      detail: log.canaryStoppedAt === null ? 'not yet' : `at ${iso(log.canaryStoppedAt)}`,
    },
    { item: 'retrospective', done: null, detail: 'opened by itself: sluice doc retro' },
  ];
  return { frame: 'Rollback', status: 'done', checklist, artifact: 'rollback' };
}

/** A release's storyboard: Plan, Stage, Release, Verify and Rollback frames, each with its checklist from the log and the document it opens. */
export function storyboard(i: ReleaseDocInput): Storyboard {
  const ended = i.release.endedAt !== null;
  return {
    service: i.service,
    release: i.release.number,
    version: i.release.to.version,
    status: i.release.status,
    frames: [planFrame(i), stageFrame(i), releaseFrame(i, ended), verifyFrame(i), rollbackFrame(i)],
    generatedFrom: i.generatedFrom,
  };
}
