/**
 * Environments and promotion: a service with `spec.environments` runs each environment as its own
 * controlled service (`<name>--<environment>`); `apply` releases to the first, `request` moves a
 * version into the next one once its plan's gates pass (core/plan/), `approve` and `override`
 * feed those gates. Governance events go to the log under the service's own name.
 */
import { GOVERNANCE_EVENT_TYPES, type GovernanceEvent } from '../core/plan/events.ts';
import { approvalRefusal, overrideRefusal } from '../core/plan/approvals.ts';
import { blockingSummary, evaluateGates, planOutcome } from '../core/plan/gates.ts';
import {
  emptyGovernance,
  foldGovernance,
  type GovernanceState,
  openPlan,
  type PlanState,
} from '../core/plan/governance-state.ts';
import type { GateName, GateResult, PlanFacts, PlanRecord } from '../core/plan/types.ts';
import { emptyState } from '../core/release/state.ts';
import type { ServiceSpec } from '../spec/index.ts';
import type { Store } from '../store/types.ts';
import { environmentService } from './effective-spec.ts';
import { applyEnvironments } from './environments-apply.ts';
import { rehearsalFacts } from './rehearsal-facts.ts';
import { planView, type PlanAnswer } from '../views/plan.ts';
import {
  appliedOf,
  effectiveOf,
  environmentIndex,
  environmentsView,
  previousRelease,
  type AppliedEnvironments,
} from './environment-facts.ts';
import type { ApplyResult } from '../views/apply-result.ts';
import type { ApplyOptions, Engine } from './engine.ts';
import { SluiceError } from '../errors.ts';
import { SerialQueue } from '../core/serial-queue.ts';

export interface Principal {
  name: string;
  role: string;
}

export interface EnvironmentsDeps {
  engine: Engine;
  store: Store;
  now?: () => number;
  /** The release window for these service names now (closed if any is), or null without a policy. */
  windowOf: (services: string[], now: number) => Promise<PlanFacts['window']>;
  roleAllows: (has: string, needs: string) => boolean;
  /** How often waiting plans are looked at again (a window opening). */
  tickMs?: number;
  /** Where a failed look at a waiting plan is reported (the loop never throws). */
  onError?: (err: unknown) => void;
}

/** A refusal that names who may not do what: the API answers 403. */
export class ForbiddenError extends Error {}

export class Environments {
  readonly #d: EnvironmentsDeps;
  readonly #now: () => number;
  readonly #states = new Map<string, GovernanceState>();
  readonly #lock = new SerialQueue();
  #timer: NodeJS.Timeout | undefined;
  #unfollow: () => void = () => undefined;
  /** Services whose log is queued to be read again (another replica's governance events). */
  readonly #reloading = new Set<string>();

  private constructor(d: EnvironmentsDeps) {
    this.#d = d;
    this.#now = d.now ?? Date.now;
  }

  /** Replays the governance log of every service whose environments are running. */
  static async open(d: EnvironmentsDeps): Promise<Environments> {
    const e = new Environments(d);
    const bases = new Set(
      (await d.store.services()).filter((s) => s.name.includes('--')).map((s) => s.name.split('--')[0]!),
    );
    e.#unfollow = e.#followReplicas();
    for (const base of bases) await e.#reload(base);
    e.#timer = setInterval(() => void e.#tick(), d.tickMs ?? 1000);
    e.#timer.unref();
    return e;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#unfollow();
  }

  /** Folds `base`'s governance log from its start (a service with no environments document is left out). */
  async #reload(base: string): Promise<void> {
    const events = await this.#d.store.events({ service: base });
    let gs = emptyGovernance();
    for (const ev of events) if (isGovernance(ev)) gs = foldGovernance(gs, ev);
    if (gs.document === null) return;
    this.#states.set(base, gs);
    this.#notifyBase(base, gs);
  }

  /**
   * Replicated: another replica's governance events (a plan asked for there, an approval) are taken
   * in by reading the service's log again, in the lock, so every replica holds the same plans
   * whatever order the events reach it in.
   */
  #followReplicas(): () => void {
    return this.#d.engine.bus.subscribe((ev, origin) => {
      if (origin !== 'replica' || !isGovernance(ev) || this.#reloading.has(ev.service)) return;
      this.#reloading.add(ev.service);
      void this.#exclusive(async () => {
        this.#reloading.delete(ev.service);
        await this.#reload(ev.service);
      }).catch((err: unknown) => this.#d.onError?.(err));
    });
  }

  /** Governance events (plans, gates, approvals) are logged under the base name: its spec's notifiers get them. */
  #notifyBase(service: string, gs: GovernanceState): void {
    try {
      this.#d.engine.configureNotifications(
        service,
        appliedOf(this.#d.engine, service, gs).spec.spec.notifications ?? [],
      );
    } catch {
      // A stored document that no longer parses has no notifiers; its environments report the problem.
    }
  }

  /** The Service with environments last applied as `service` (null: none). */
  appliedSpec(service: string): ServiceSpec | null {
    const gs = this.#states.get(service);
    return gs?.document ? appliedOf(this.#d.engine, service, gs).spec : null;
  }

  /** The environments of `service`, in order (null: it has no spec.environments). */
  environmentsOf(service: string): string[] | null {
    const spec = this.appliedSpec(service);
    return spec === null ? null : (spec.spec.environments ?? []).map((e) => e.name);
  }

  /**
   * A release train's move of `service` to `version` in `environment`, as a person's would be: into
   * the first environment by applying its document at that version, into a later one by a plan
   * through its gates (a plan that waits — for approvals, a window — starts when they are met).
   * Throws when a gate refuses.
   */
  async releaseForTrain(service: string, environment: string, version: string, actor: string): Promise<void> {
    const gs = this.#state(service);
    const a = appliedOf(this.#d.engine, service, gs);
    if (environmentIndex(a, environment) > 0) {
      const answer = await this.request(service, { version, environment }, actor);
      if (answer.outcome === 'refused')
        throw new SluiceError('CONFLICT', `${service} ${version} into ${environment}: ${answer.plan.detail}`);
      return;
    }
    const raw = structuredClone(a.raw);
    raw.spec = { ...(raw.spec as Record<string, unknown>), version };
    const spec = { ...a.spec, spec: { ...a.spec.spec, version } };
    await this.applyDocument(spec, raw, { file: a.file ?? '<train>', baseDir: a.baseDir, actor });
  }

  /** The names of the services released through environments. */
  has(service: string): boolean {
    return this.#states.get(service)?.document != null;
  }

  /** Apply a Service with spec.environments: it releases to its first environment and updates the others' config. */
  async applyDocument(spec: ServiceSpec, raw: Record<string, unknown>, o: ApplyOptions): Promise<ApplyResult[]> {
    const service = spec.metadata.name;
    const results = await this.#exclusive(() =>
      applyEnvironments(
        {
          engine: this.#d.engine,
          record: (events) => this.#record(service, events, o.actor),
          // Open plans whose environment's spec changed are renewed: their approvals expire.
          renewOpenPlans: async () => {
            for (const p of this.#state(service).plans.filter((x) => x.status === 'Planned' || x.status === 'Refused'))
              await this.#current(service, p);
          },
          now: this.#now(),
        },
        service,
        raw,
        o,
      ),
    );
    this.#d.engine.configureNotifications(service, spec.spec.notifications);
    return results;
  }

  /**
   * Why `command` may not run on `service` now (null: it may). In an environment behind gates,
   * moving a release forward (promote, resume, retry) needs a release its plan started; rolling
   * back (abort, pause, undo) is always allowed.
   */
  commandRefusal(service: string, command: string): string | null {
    if (!['promote', 'resume', 'retry'].includes(command)) return null;
    const cut = service.indexOf('--');
    if (cut < 0) return null;
    const base = service.slice(0, cut);
    const environment = service.slice(cut + 2);
    const gs = this.#states.get(base);
    if (gs?.document == null)
      return `${service} is named like an environment's service, but ${base} has no spec.environments`;
    const a = appliedOf(this.#d.engine, base, gs);
    if (a.envs.findIndex((e) => e.name === environment) <= 0) return null;
    let release;
    try {
      release = this.#d.engine.releaseOf(service);
    } catch {
      return null;
    }
    if (release === null || release.kind === 'undo') return null;
    const planned = gs.plans.some(
      (p) => p.record.environment === environment && p.status === 'Started' && p.record.version === release.to.version,
    );
    if (planned) return null;
    return `${service}'s release of ${release.to.version} was not started by a plan that passed ${environment}'s gates; ask for it with sluice release ${base} --version ${release.to.version} --to ${environment}`;
  }

  /** Approvals a release into an environment's service needs (0: none asked, or not an environment's service). */
  approvalsRequired(service: string): number {
    const cut = service.indexOf('--');
    if (cut < 0) return 0;
    const gs = this.#states.get(service.slice(0, cut));
    if (gs?.document == null) return 0;
    const env = appliedOf(this.#d.engine, service.slice(0, cut), gs).envs.find(
      (e) => e.name === service.slice(cut + 2),
    );
    return env?.approvals?.required ?? 0;
  }

  /**
   * Ask for `version` to enter `environment`: plans it and checks its gates. Started when they
   * pass; otherwise the plan waits (approvals, a window) or is refused (a failed gate), and is
   * looked at again on every approval and override.
   */
  async request(service: string, body: { version: string; environment: string }, actor: string): Promise<PlanAnswer> {
    return this.#exclusive(async () => {
      const gs = this.#state(service);
      const a = appliedOf(this.#d.engine, service, gs);
      const index = environmentIndex(a, body.environment);
      if (index === 0)
        throw new SluiceError(
          'CONFLICT',
          `${body.environment} is ${service}'s first environment: sluice apply releases to it`,
        );
      const e = effectiveOf(this.#d.engine, a, index, body.version);
      const now = this.#d.engine.list().find((s) => s.service === e.service);
      if (now?.stableVersion === body.version && now.canaryVersion === null)
        throw new SluiceError('CONFLICT', `${body.version} already runs in ${body.environment}`);
      if (now?.canaryVersion === body.version)
        throw new SluiceError('CONFLICT', `${body.version} is already being released to ${body.environment}`);
      let plan = openPlan(gs, body.environment);
      if (plan === null || plan.record.version !== body.version || plan.record.specHash !== e.hash) {
        plan = await this.#newPlan(service, a, index, body.version, actor, plan);
      }
      return this.#evaluate(service, plan.record.id);
    });
  }

  async #newPlan(
    service: string,
    a: AppliedEnvironments,
    index: number,
    version: string,
    actor: string,
    previous: PlanState | null,
  ): Promise<PlanState> {
    const e = effectiveOf(this.#d.engine, a, index, version);
    const gs = this.#state(service);
    const record: PlanRecord = {
      id: `${service}/${a.envs[index]!.name}/${gs.plans.length + 1}`,
      service,
      environment: a.envs[index]!.name,
      version,
      specHash: e.hash,
      risk: a.risk,
      policy: e.policy,
      requestedBy: actor,
      requestedAt: this.#now(),
    };
    const events: GovernanceEvent[] = [];
    if (previous !== null) {
      const why =
        previous.record.version !== version
          ? `superseded by ${version}`
          : 'the spec changed: approvals given for the old one expired';
      events.push({
        type: 'plan.decided',
        planId: previous.record.id,
        status: 'Superseded',
        detail: why,
        release: null,
      });
    }
    events.push({ type: 'plan.requested', plan: record });
    await this.#record(service, events, actor);
    return this.#state(service).plans.at(-1)!;
  }

  /** Check a plan's gates now, record what changed, and start its release when they all pass. */
  async #evaluate(service: string, planId: string): Promise<PlanAnswer> {
    const { engine } = this.#d;
    const plan = await this.#current(service, this.#plan(service, planId));
    const a = appliedOf(engine, service, this.#state(service));
    const e = effectiveOf(engine, a, environmentIndex(a, plan.record.environment), plan.record.version);
    const gates = await this.#gates(service, a, plan);
    const at = this.#now();
    const events: GovernanceEvent[] = gates
      // Only changes are recorded: a waiting plan is looked at every second.
      .filter((g) => plan.gates[g.gate]?.outcome !== g.outcome || plan.gates[g.gate]?.detail !== g.detail)
      .map((result) => ({ type: 'gate.evaluated', planId: plan.record.id, result }));
    const outcome = planOutcome(gates);
    if (outcome === 'ready') {
      await this.#record(service, events, plan.record.requestedBy);
      try {
        // The plan's window gate decided (or was overridden): the engine does not ask again.
        await engine.apply(e.text, {
          file: a.file ?? '<environments>',
          baseDir: a.baseDir,
          actor: plan.record.requestedBy,
          windows: 'skip',
        });
      } catch (err) {
        await this.#record(
          service,
          [
            {
              type: 'plan.decided',
              planId: plan.record.id,
              status: 'Refused',
              detail: `the release could not start: ${(err as Error).message}`,
              release: null,
            },
          ],
          plan.record.requestedBy,
        );
        throw err;
      }
      const release = (await engine.status(e.service)).release;
      await this.#record(
        service,
        [
          {
            type: 'plan.decided',
            planId: plan.record.id,
            status: 'Started',
            detail: `release ${release?.id ?? '?'} started in ${plan.record.environment} at ${new Date(at).toISOString()}`,
            release: release ? { service: e.service, id: release.id } : null,
          },
        ],
        plan.record.requestedBy,
      );
      return { outcome: 'started', plan: planView(this.#plan(service, plan.record.id)) };
    }
    const status = outcome === 'refused' ? 'Refused' : 'Planned';
    const detail = blockingSummary(gates);
    if (plan.status !== status || plan.detail !== detail)
      events.push({ type: 'plan.decided', planId: plan.record.id, status, detail, release: null });
    await this.#record(service, events, plan.record.requestedBy);
    return { outcome, plan: planView(this.#plan(service, plan.record.id)) };
  }

  /** The plan, renewed when the spec changed since it was made: approvals are given for what will run. */
  async #current(service: string, plan: PlanState): Promise<PlanState> {
    const a = appliedOf(this.#d.engine, service, this.#state(service));
    const index = environmentIndex(a, plan.record.environment);
    if (effectiveOf(this.#d.engine, a, index, plan.record.version).hash === plan.record.specHash) return plan;
    return this.#newPlan(service, a, index, plan.record.version, plan.record.requestedBy, plan);
  }

  async #gates(service: string, a: AppliedEnvironments, plan: PlanState): Promise<GateResult[]> {
    const { engine, store } = this.#d;
    const index = environmentIndex(a, plan.record.environment);
    const e = effectiveOf(engine, a, index, plan.record.version);
    const prev = plan.record.policy.previous;
    const gs = this.#state(service);
    const now = this.#now();
    const facts: PlanFacts = {
      contractRules: e.spec.spec.rollbackContract.rules.length,
      previousRelease:
        prev === null
          ? null
          : await previousRelease(engine, store, environmentService(service, prev), plan.record.version),
      approvals: gs.approvals,
      overrides: gs.overrides,
      window: await this.#d.windowOf([service, e.service], now),
      ...(plan.record.policy.rehearsal !== undefined && {
        rehearsal: await rehearsalFacts(engine, store, service, plan.record.environment, plan.record.version),
      }),
    };
    return evaluateGates(plan.record, facts, now);
  }

  /** An approval of the open plan for `environment`; four-eyes: never by the plan's author. */
  async approve(service: string, body: { environment: string; comment?: string | undefined }, by: Principal) {
    return this.#exclusive(async () => {
      const plan = await this.#current(service, this.#openPlan(service, body.environment));
      const refusal = approvalRefusal(
        plan.record,
        by.name,
        this.#d.roleAllows(by.role, plan.record.policy.approvals.role),
        this.#state(service).approvals,
      );
      if (refusal !== null) throw new ForbiddenError(refusal);
      const r = plan.record;
      await this.#record(
        service,
        [
          {
            type: 'approval.given',
            approval: {
              planId: r.id,
              by: by.name,
              role: by.role,
              at: this.#now(),
              version: r.version,
              specHash: r.specHash,
              comment: body.comment ?? null,
            },
          },
        ],
        by.name,
      );
      return this.#evaluate(service, r.id);
    });
  }

  /** Let a plan through a gate that holds it: an approver who is not its author, with a reason; opens a post-mortem. */
  async override(
    service: string,
    body: { environment?: string | undefined; gate: GateName; reason: string },
    by: Principal,
  ) {
    return this.#exclusive(async () => {
      const gs = this.#state(service);
      const open = gs.plans.filter((p) => p.status === 'Planned' || p.status === 'Refused');
      const plan =
        body.environment !== undefined
          ? this.#openPlan(service, body.environment)
          : open.length === 1
            ? open[0]!
            : null;
      if (plan === null)
        throw new SluiceError(
          'CONFLICT',
          open.length === 0
            ? `no release of ${service} is waiting at a gate`
            : `releases wait in ${open.map((p) => p.record.environment).join(', ')}: name one with --env`,
        );
      const gates = await this.#gates(service, appliedOf(this.#d.engine, service, gs), plan);
      const refusal = overrideRefusal(plan.record, body.gate, by.name, this.#d.roleAllows(by.role, 'approver'), gates);
      if (refusal !== null) throw new ForbiddenError(refusal);
      const r = plan.record;
      const postmortemId = `${service}-pm-${gs.postmortems.length + 1}`;
      const at = this.#now();
      await this.#record(
        service,
        [
          {
            type: 'gate.overridden',
            override: { planId: r.id, gate: body.gate, by: by.name, at, reason: body.reason, postmortemId },
          },
          {
            type: 'postmortem.opened',
            postmortem: {
              id: postmortemId,
              service,
              environment: r.environment,
              version: r.version,
              planId: r.id,
              gate: body.gate,
              overriddenBy: by.name,
              reason: body.reason,
              openedAt: at,
              release: null,
            },
          },
        ],
        by.name,
      );
      return { postmortem: postmortemId, ...(await this.#evaluate(service, r.id)) };
    });
  }

  async environments(service: string) {
    const gs = this.#state(service);
    return environmentsView(this.#d.engine, appliedOf(this.#d.engine, service, gs), gs);
  }

  /** The effective specs of two environments, at the versions they run (the base version where none runs). */
  effectivePair(service: string, a: string, b: string) {
    const applied = appliedOf(this.#d.engine, service, this.#state(service));
    const at = (name: string) => {
      const i = environmentIndex(applied, name);
      const running = this.#d.engine.list().find((s) => s.service === environmentService(service, name))?.stableVersion;
      return effectiveOf(this.#d.engine, applied, i, running ?? applied.spec.spec.version);
    };
    return { a: at(a), b: at(b) };
  }

  postmortems(service?: string) {
    const all = [...this.#states.entries()]
      .filter(([name]) => service === undefined || name === service)
      .flatMap(([, gs]) => gs.postmortems);
    return all.map((m) => ({ ...m, openedAt: new Date(m.openedAt).toISOString() }));
  }

  #state(service: string): GovernanceState {
    const gs = this.#states.get(service);
    if (gs === undefined)
      throw new SluiceError(
        'NOT_FOUND',
        `no service "${service}" with spec.environments; apply one first (sluice apply -f FILE)`,
      );
    return gs;
  }

  #plan(service: string, id: string): PlanState {
    return this.#state(service).plans.find((p) => p.record.id === id)!;
  }

  #openPlan(service: string, environment: string): PlanState {
    const plan = openPlan(this.#state(service), environment);
    if (plan === null)
      throw new SluiceError(
        'CONFLICT',
        `no release of ${service} to ${environment} is waiting; ask for one first (sluice release ${service} --version V --to ${environment})`,
      );
    return plan;
  }

  async #record(service: string, events: GovernanceEvent[], actor: string): Promise<void> {
    if (events.length === 0) return;
    const at = this.#now();
    const stored = await this.#d.store.commit(
      service,
      events.map((e) => ({ ...e, at, actor })),
      emptyState(service),
    );
    let gs = this.#states.get(service) ?? emptyGovernance();
    for (const ev of stored) if (isGovernance(ev)) gs = foldGovernance(gs, ev);
    this.#states.set(service, gs);
    this.#d.engine.bus.publish(stored);
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.#lock.run(fn);
  }

  /** Plans waiting on time (a window, nothing else) start when it comes; a failure is logged, never thrown. */
  async #tick(): Promise<void> {
    // Replicated: one replica starts plans on time (the one leading the server's duties).
    if (!(await this.#d.engine.leadsServerDuties().catch(() => false))) return;
    for (const [service, gs] of this.#states) {
      for (const p of gs.plans.filter((x) => x.status === 'Planned')) {
        await this.#exclusive(() => this.#evaluate(service, p.record.id)).catch((err) => this.#d.onError?.(err));
      }
    }
  }
}

const GOVERNANCE = new Set<string>(GOVERNANCE_EVENT_TYPES);
function isGovernance(e: { type: string }): e is GovernanceEvent & { at: number } {
  return GOVERNANCE.has(e.type);
}
