import type { ServiceEvent } from '../core/events.ts';
import { isActive, type ReleaseState } from '../core/release/state.ts';
import { describeStep, type ReleaseStep } from '../core/release/strategy.ts';
import type { Condition, RollbackContract } from '../core/types.ts';
import { releaseView, type ReleaseView } from './service-status.ts';

/** One applied revision, as `GET /api/services/:name/revisions` lists it (times are ISO strings). */
export interface RevisionSummary {
  key: string;
  number: number;
  version: string;
  templateHash: string;
  file: string | null;
  createdAt: string;
  createdBy: string;
}
/** One revision with its whole spec (secrets redacted) and that spec as YAML: what the dashboard diffs. */
export interface Revision extends RevisionSummary {
  spec: unknown;
  yaml: string;
}

export interface TimelineStep {
  index: number;
  step: ReleaseStep;
  description: string | null;
  state: 'done' | 'current' | 'next';
  startedAt: string | null;
}
/** A contract rule as the dashboard reads it: kinds of rule other than metric thresholds are shown by name. */
export interface ContractRule {
  name: string;
  metric: string;
  failIf?: Condition;
  objective?: number;
}
/** A release's steps (done / current / next, with start times), contract and activity: the dashboard's timeline. */
export interface ReleaseTimeline {
  release: ReleaseView;
  stepIndex: number;
  steps: TimelineStep[];
  contract: Omit<RollbackContract, 'rules'> & { rules: ContractRule[] };
  activity: ServiceEvent[];
}

/** The timeline of release `r` from its events (in order, without analysis events). */
export function releaseTimeline(r: ReleaseState, events: ServiceEvent[]): ReleaseTimeline {
  const stepStarts = new Map<number, string>();
  for (const e of events) if (e.type === 'step.started') stepStarts.set(e.index, new Date(e.at).toISOString());
  const done = r.status === 'Succeeded';
  const steps = r.steps.map((step, index): TimelineStep => ({
    index,
    step,
    description: describeStep(step),
    state: done || index < r.stepIndex ? 'done' : index === r.stepIndex && isActive(r) ? 'current' : 'next',
    startedAt: stepStarts.get(index) ?? null,
  }));
  return { release: releaseView(r), stepIndex: r.stepIndex, steps, contract: r.contract, activity: events };
}
