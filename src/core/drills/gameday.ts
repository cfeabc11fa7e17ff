/**
 * A GameDay as the runner takes it (the spec layer reads the YAML into this, gameday-schema.ts):
 * the steady state its probes must hold, the faults to inject in order (a step of several runs
 * them together), what aborts it, and who signs it off. Times in milliseconds, shares in percent.
 */
import type { FaultCohort, FaultEffect } from './fault.ts';
import type { DrillSchedule } from './schedule.ts';

/** What a fault hits: the release's canary, the stable revision, or the metrics backend (the data plane's metrics API). */
export type FaultTarget = 'canary' | 'stable' | 'metrics';

export interface DrillProbe {
  name: string;
  url: string;
  expectStatus: number;
  everyMs: number;
  /** The share of answers that must be as expected, in percent. */
  tolerance: number;
  /** Its weight in the resilience score (1 unless said). */
  weight: number;
}

export interface DrillFault {
  target: FaultTarget;
  effect: FaultEffect;
  /** Percent of the revision's requests, or of its users in `cohort`. */
  percent: number;
  cohort?: FaultCohort;
  forMs: number;
}

/** What a drill does to a revision's instances through its target: SIGKILL, SIGSTOP (SIGCONT after `forMs`), or a restart. */
export type InstanceAction = 'kill' | 'stop' | 'restart';
export const INSTANCE_ACTIONS = ['kill', 'stop', 'restart'] as const satisfies readonly InstanceAction[];

/** `{ target: instance, kill: 1 }`: `count` instances of a revision, through the service's target driver. */
export interface InstanceDrillFault {
  action: InstanceAction;
  count: number;
  /** Which revision's instances; null: the canary while a release is in progress, else the stable one. */
  version: 'canary' | 'stable' | null;
  /** stop: how long the instances stay stopped; kill, restart: how long the step watches after it. */
  forMs: number;
}

/** One step of the method: its faults run together; steps run one after another. */
export interface DrillStep {
  faults: DrillFault[];
  /** Instance faults of the step (absent in drills recorded before they existed). */
  instanceFaults?: InstanceDrillFault[];
}

export interface StopCondition {
  probe: string;
  /** Abort when the probe's share of good answers so far in the drill falls below this (percent). */
  below: number;
}

export interface GameDay {
  name: string;
  service: string;
  probes: DrillProbe[];
  method: DrillStep[];
  stopConditions: StopCondition[];
  /** How long the steady state is sampled before the first fault and after the last one. */
  steadyStateMs: { before: number; after: number };
  signOff: { role: 'approver' | 'admin' } | null;
  /** When it runs on its own once scheduled (`sluice gameday schedule`); null or absent: run by hand only. */
  schedule?: DrillSchedule | null;
}
