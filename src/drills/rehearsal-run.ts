/**
 * A rollback rehearsal (docs/drills.md): while a version's canary runs in the environment before
 * one with `rehearsal.required`, inject the environment's fault into that canary, watch the
 * contract fail it and revert the traffic, record how long detection and revert took
 * (`drill.rehearsed`), remove the fault, and, when it reverted in time, release the version
 * there again for real (retry). The rehearsal gate reads the record.
 */
import { rehearsalPassed, type RehearsalResult } from '../core/drills/rehearsal.ts';
import { firstHit } from '../core/drills/record.ts';
import type { ActiveFault, FaultRule } from '../core/drills/fault.ts';
import type { ServiceEvent } from '../core/events.ts';
import { isActive } from '../core/release/state.ts';
import type { Engine } from '../engine/engine.ts';
import { SluiceError } from '../errors.ts';
import type { ServiceSpec } from '../spec/index.ts';
import type { DrillLog } from './drill-log.ts';

export interface RehearsalDeps {
  engine: Engine;
  log: DrillLog;
  appliedSpec: (service: string) => ServiceSpec | null;
  leaseMs: number;
  /** The contract's window of `service`, in ms. */
  contractWindowMs: (service: string) => number;
  /** A drill runs on this service now (one fault campaign at a time). */
  busy: (service: string) => boolean;
}

export interface Rehearsal extends RehearsalResult {
  /** The version was released again for real in `ranIn` after a rehearsal that passed. */
  retried: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function rehearse(
  d: RehearsalDeps,
  service: string,
  environment: string,
  version: string,
  actor: string,
): Promise<Rehearsal> {
  const spec = d.appliedSpec(service);
  if (spec === null)
    throw new SluiceError(
      'NOT_FOUND',
      `no service "${service}" with spec.environments; a rehearsal gates an environment`,
    );
  const envs = spec.spec.environments ?? [];
  const index = envs.findIndex((e) => e.name === environment);
  if (index < 0)
    throw new SluiceError(
      'NOT_FOUND',
      `${service} has no environment "${environment}"; its environments: ${envs.map((e) => e.name).join(', ')}`,
    );
  const policy = envs[index]!.rehearsal;
  if (policy?.required !== true || index === 0)
    throw new SluiceError(
      'CONFLICT',
      `environment ${environment} of ${service} asks for no rehearsal (spec.environments[${environment}].rehearsal.required)`,
    );
  const ranIn = `${service}--${envs[index - 1]!.name}`;
  const { engine } = d;
  const state = engine.serviceState(ranIn);
  const release = state?.release ?? null;
  if (
    state === null ||
    !isActive(release) ||
    release.to.version !== version ||
    (state.weights[release.to.key] ?? 0) === 0
  ) {
    throw new SluiceError(
      'CONFLICT',
      `${version}'s canary is not taking traffic in ${ranIn}: start its release there (sluice release ${service} --version ${version} --to ${envs[index - 1]!.name}), then rehearse while the canary runs`,
    );
  }
  if (d.busy(ranIn))
    throw new SluiceError('CONFLICT', `a drill is running on ${ranIn}; stop it or wait for it before rehearsing`);
  const faults = engine.faultsOf(ranIn);
  if (faults === undefined)
    throw new SluiceError(
      'CONFLICT',
      `${ranIn}'s router cannot inject faults; rehearsals need the builtin router or a managed haproxy (router.listen)`,
    );

  const max = policy.maxTimeToRevert;
  const seen: { failAt: number | null; revertedAt: number | null } = { failAt: null, revertedAt: null };
  const unsubscribe = engine.bus.subscribe((e: ServiceEvent) => {
    if (e.service !== ranIn) return;
    if (e.type === 'rollback.started') seen.failAt ??= e.at;
    if (e.type === 'rollback.trafficReverted') seen.revertedAt ??= e.at;
  });
  const rule: FaultRule = {
    id: `rehearsal/${service}/${environment}/${Date.now()}`,
    key: release.to.key,
    effect: { kind: 'error', status: 503 },
    percent: policy.fault.errors,
    ttlMs: Math.min(d.leaseMs, max),
  };
  const refused = faults.refusal?.({ key: rule.key, effect: rule.effect });
  if (refused != null) throw new SluiceError('CONFLICT', `${ranIn}'s router: ${refused}`);
  const startedAt = Date.now();
  let cleared: ActiveFault[] = [];
  let error: string | null = null;
  try {
    await faults.set([rule]);
    while (seen.revertedAt === null && Date.now() - startedAt < max) {
      await sleep(Math.min(d.leaseMs / 3, 100));
      // The lease is renewed on its last third; a dead controller's fault ends within it.
      if (Date.now() - startedAt < max)
        await faults.set([{ ...rule, ttlMs: Math.min(d.leaseMs, Math.max(1, startedAt + max - Date.now())) }]);
    }
  } catch (err) {
    error = (err as Error).message;
  } finally {
    unsubscribe();
    cleared = await faults.clear([rule.id]).catch(() => []);
  }
  const first = firstHit(cleared);
  const timeToDetectMs = first === null || seen.failAt === null ? null : seen.failAt - first;
  const timeToRevertMs = first === null || seen.revertedAt === null ? null : seen.revertedAt - first;
  const ok = error === null && rehearsalPassed(timeToRevertMs, max);
  const detail =
    error !== null
      ? `the fault could not be injected: ${error}`
      : first === null
        ? 'no request reached the canary during the rehearsal: it needs traffic'
        : timeToRevertMs === null
          ? `the contract did not revert the canary within ${max} ms`
          : ok
            ? `detected in ${timeToDetectMs} ms, reverted in ${timeToRevertMs} ms`
            : `reverted in ${timeToRevertMs} ms, more than ${max} ms`;
  const result: RehearsalResult = {
    service,
    environment,
    version,
    ranIn,
    ok,
    at: Date.now(),
    timeToDetectMs,
    timeToRevertMs,
    maxTimeToRevertMs: max,
    detail,
  };
  await d.log.record({ type: 'drill.rehearsed', result }, actor);
  const lastHit = Math.max(0, ...cleared.map((f) => f.lastHitAt ?? 0));
  return {
    ...result,
    retried: ok ? await releaseAgain(engine, ranIn, lastHit + d.contractWindowMs(ranIn), actor) : false,
  };
}

/**
 * After the rehearsal's rollback has ended, the version is released again in the same environment,
 * for real, once the faulted answers are out of the contract's window (`clearAt`): the new
 * canary's first evaluation reads the window, and must not judge the rehearsal's errors again.
 */
async function releaseAgain(engine: Engine, service: string, clearAt: number, actor: string): Promise<boolean> {
  const until = Date.now() + 15_000;
  while (isActive(engine.serviceState(service)?.release) && Date.now() < until) await sleep(50);
  if (clearAt > Date.now()) await sleep(clearAt - Date.now());
  try {
    await engine.command(service, 'retry', {}, actor);
    return true;
  } catch {
    return false;
  }
}
