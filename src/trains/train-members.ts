/**
 * A train's member services as the train sees and moves them. What each shows is read from what
 * every replica sees (its own controller, else the store's projection of the owner's); an action on
 * a member is performed by the replica that runs it — here, or sent on to its owner through the log
 * (engine.forward, command `train`), where it is carried out under that service's lease and fence.
 * Carried out, an action is idempotent: a release of a version the service runs or is releasing,
 * or a rollback already under way, does nothing, so an action asked for twice (a runner taking a
 * train over) starts nothing twice.
 */
import { isActive, type ServiceState } from '../core/release/state.ts';
import type { ServiceObservation, TrainAction, TrainForwarded, TrainWindow } from '../core/trains/index.ts';
import type { Engine } from '../engine/engine.ts';
import { SluiceError } from '../errors.ts';
import type { ServiceSpec } from '../spec/index.ts';
import type { Store } from '../store/types.ts';

/** Services released through environments, as the governance layer (engine/environments.ts) holds them. */
export interface TrainEnvironments {
  /** The environments of a service with spec.environments, in order (null: it has none). */
  of(service: string): string[] | null;
  /** Release `version` of `service` into `environment` through its gates, as a person would; throws when refused. */
  release(service: string, environment: string, version: string, actor: string): Promise<void>;
}

/** The forwarded command a train's action on a member goes by. */
export const TRAIN_COMMAND = 'train';

export class TrainMembers {
  readonly #engine: Engine;
  readonly #store: Store;
  readonly #environments: TrainEnvironments | undefined;
  /** Actions carried out here one at a time per service: the second of two sees what the first did. */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(engine: Engine, store: Store, environments?: TrainEnvironments) {
    this.#engine = engine;
    this.#store = store;
    this.#environments = environments;
  }

  /** What each member shows now (absent: no such service), with its release window where asked. */
  async observe(
    names: readonly string[],
    windows: ReadonlyMap<string, TrainWindow>,
  ): Promise<Record<string, ServiceObservation>> {
    const states = await this.#engine.statesOf(names);
    const seen: Record<string, ServiceObservation> = {};
    for (const [name, state] of states) {
      seen[name] = observation(state);
      const w = windows.get(name);
      if (w !== undefined) seen[name].window = { open: w.open, reason: w.reason, until: w.until };
    }
    return seen;
  }

  /** What each member runs now (its stable version and revision; null: nothing), for a run's plan. */
  async running(names: readonly string[]): Promise<Map<string, { version: string; revision: string } | null>> {
    const states = await this.#engine.statesOf(names);
    return new Map(
      names.map((n) => {
        const stable = states.get(n)?.stable ?? null;
        return [n, stable === null ? null : { version: stable.version, revision: stable.key }] as const;
      }),
    );
  }

  /** Perform `a` for train `train`: here when this replica runs the service, else by its owner. */
  async act(train: string, environment: string | undefined, a: TrainAction, actor: string): Promise<void> {
    if (await this.#engine.takesOn(a.service)) return this.carryOut(train, environment, a, actor);
    const forwarded: TrainForwarded = {
      kind: 'act',
      train,
      action: a,
      ...(environment !== undefined && { environment }),
    };
    await this.#engine.forward(a.service, TRAIN_COMMAND, { train: forwarded }, actor);
  }

  /** Carry out a train's action on a service this replica runs (sent on by the train's runner, or its own). */
  carryOut(train: string, environment: string | undefined, a: TrainAction, actor: string): Promise<void> {
    const run = async () => {
      // The service moved to another replica since it was sent here: the train's runner asks again.
      if (!this.#engine.runs(a.service))
        throw new SluiceError('BUSY', `${a.service} is no longer run by this replica; the train asks its owner again`);
      await this.#perform(train, environment, a, this.#engine.serviceState(a.service), actor);
    };
    const next = (this.#queues.get(a.service) ?? Promise.resolve()).then(run, run);
    const tail = next.catch(() => undefined);
    this.#queues.set(a.service, tail);
    void tail.then(() => {
      if (this.#queues.get(a.service) === tail) this.#queues.delete(a.service);
    });
    return next;
  }

  async #perform(
    train: string,
    environment: string | undefined,
    a: TrainAction,
    state: ServiceState | null,
    actor: string,
  ): Promise<void> {
    const r = state?.release ?? null;
    if (a.kind === 'abort') {
      if (isActive(r)) await this.#engine.command(a.service, 'abort', { reason: a.reason }, actor, false);
      return;
    }
    if (a.kind === 'rollback') {
      const under = isActive(r) && r.kind === 'undo' && r.to.version === a.version;
      if (state?.stable?.version === a.version || under) return;
      await this.#engine.rollBackTo(a.service, a.toRevision, actor);
      return;
    }
    const started =
      state?.stable?.version === a.version ||
      (isActive(r) && r.to.version === a.version) ||
      state?.waiting?.revision.version === a.version;
    if (started) return;
    if (environment !== undefined) {
      const service = a.service.slice(0, -`--${environment}`.length);
      await this.#environments!.release(service, environment, a.version, actor);
      return;
    }
    const stored = await this.#store.service(a.service);
    if (stored === null) throw new SluiceError('NOT_FOUND', `no service named "${a.service}"`);
    const base = stored.spec as ServiceSpec;
    const spec: ServiceSpec = { ...base, spec: { ...base.spec, version: a.version } };
    await this.#engine.applyService(spec, { file: `train ${train}`, baseDir: stored.baseDir, actor });
  }
}

function observation(state: ServiceState): ServiceObservation {
  const r = state.release;
  const detail = r === null ? '' : (r.rollback?.reason ?? r.error ?? (isActive(r) ? '' : r.status));
  return {
    stable: state.stable?.version ?? null,
    release:
      r === null
        ? null
        : {
            to: r.to.version,
            status: r.status,
            kind: r.kind,
            detail,
            reverting: r.rollback !== null && r.rollback.trafficRevertedAt === null,
          },
    waiting: state.waiting?.reason ?? null,
  };
}
