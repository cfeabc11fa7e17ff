import type { EventBody, ProbeFailure } from '../events.ts';
import type { Observation } from '../analysis/judge.ts';
import { reduce } from './reduce.ts';
import type { ReleaseKind, RevisionRef, ServiceState } from './state.ts';
import type { ReleasePlan, ReleaseStep, SmokeCheck } from './strategy.ts';
import type { Instance, RollbackContract, Weights } from '../types.ts';

/** Side effects the engine performs for the core, in order. */
export type Action =
  | { kind: 'startTarget'; ref: RevisionRef }
  | { kind: 'setWeights'; weights: Weights; purpose: 'step' | 'rollback' | 'promote' | 'deploy' }
  /** The router must serve the state's cohort routes (it carries weights and routes in one table). */
  | { kind: 'setRoutes' }
  /** Run a smoke step's check beside the loop and report `smokeResult`; never awaited by a decision. */
  | { kind: 'runSmoke'; index: number; check: SmokeCheck; timeoutMs: number }
  /** Set a feature flag's exposure (a setFlag step); beside the loop, never awaited by a decision. */
  | { kind: 'setFlag'; flag: string; environment: string; percent: number; rule: string | null; reason: string }
  | { kind: 'stopTarget'; key: string; drain: boolean; purpose: 'rollback' | 'retire' };

/** What a user can ask of a service's release. `undo` is resolved by the engine (it needs stored revisions). */
export type Command =
  /** `reason`: why a person moves on (required where moving on without evidence is an override). */
  | { kind: 'promote'; full: boolean; reason?: string }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'abort'; reason?: string }
  | { kind: 'retry' };

export const COMMANDS = ['promote', 'pause', 'resume', 'abort', 'retry', 'undo'] as const;

/** Everything that can make the core decide something. */
export type Input =
  | { type: 'tick' }
  | { type: 'observation'; observation: Observation }
  | { type: 'command'; command: Command }
  /** `plan` carries the strategy; without it the steps run as a canary. */
  | {
      type: 'startRelease';
      kind: ReleaseKind;
      to: RevisionRef;
      steps: ReleaseStep[];
      contract: RollbackContract;
      plan?: ReleasePlan;
    }
  | { type: 'smokeResult'; index: number; ok: boolean; detail: string; durationMs: number }
  /** The engine's probes of an instance failed `failures` times in a row (see probes.ts). */
  | { type: 'probeFailed'; key: string; instanceId: string; url: string; failures: number; evidence: ProbeFailure[] }
  | { type: 'targetReady'; key: string; instances: Instance[] }
  | { type: 'targetFailed'; key: string; error: string }
  | { type: 'targetStopped'; key: string; error: string | null }
  | {
      type: 'targetCrashed';
      key: string;
      instanceId: string;
      exitCode: number | null;
      signal: string | null;
      restarted: boolean;
    }
  /** The router serves these weights now. */
  | { type: 'weightsApplied'; weights: Weights }
  /** A router over several hosts: when each confirmed the table (`weights`), and why the others did not. */
  | { type: 'hostsApplied'; weights: Weights; applied: Record<string, number>; unreachable: Record<string, string> }
  /** The router's data plane process died (the router starts it again by itself). */
  | { type: 'routerDied'; pid: number; detail: string }
  /** An external signal (a complaint, a page) posted to the API, for the contract's signal rules. */
  | { type: 'signal'; signal: string; detail: string | null; source: string | null };

/** Why a command was refused; `conflict` means "not in this phase". */
export interface Refusal {
  code: 'conflict' | 'not_found';
  message: string;
}

export interface Decision {
  events: EventBody[];
  actions: Action[];
  refused: Refusal | null;
}

/**
 * Collects a decision's events and actions, folding each event into a working state so that the
 * next rule sees its effect (a setWeight step followed by a timed pause in the same tick).
 */
export class DecisionBuilder {
  readonly events: EventBody[] = [];
  readonly actions: Action[] = [];
  state: ServiceState;
  readonly now: number;
  readonly actor: string;

  constructor(state: ServiceState, now: number, actor: string) {
    this.state = state;
    this.now = now;
    this.actor = actor;
  }

  emit(body: EventBody): void {
    this.events.push(body);
    this.state = reduce(this.state, { ...body, service: this.state.service, at: this.now, actor: this.actor, seq: 0 });
  }

  act(action: Action): void {
    this.actions.push(action);
  }

  done(refused: Refusal | null = null): Decision {
    return { events: this.events, actions: this.actions, refused };
  }
}
