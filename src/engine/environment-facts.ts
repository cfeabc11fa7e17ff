/**
 * What the gates and `status` read about a service's environments: each environment's effective
 * spec, the previous environment's release of a version, and where each version is now.
 */
import { stringify } from 'yaml';
import type { GovernanceState, PlanState } from '../core/plan/governance-state.ts';
import { policyOf } from '../core/plan/policy.ts';
import { riskOf } from '../core/plan/risk.ts';
import type { EnvironmentPolicy, PreviousRelease, Risk } from '../core/plan/types.ts';
import type { ReleaseState } from '../core/release/state.ts';
import type { EnvironmentSpec } from '../spec/environments-schema.ts';
import type { ServiceSpec } from '../spec/index.ts';
import type { Store } from '../store/types.ts';
import { documentHash, effectiveDocument, environmentService } from './effective-spec.ts';
import { planView, type EnvironmentsView, type GovernancePhase } from '../views/plan.ts';
import type { Engine } from './engine.ts';
import { SluiceError } from '../errors.ts';

type Raw = Record<string, unknown>;

/** A service's environments as last applied: the document as written and as validated. */
export interface AppliedEnvironments {
  service: string;
  raw: Raw;
  spec: ServiceSpec;
  envs: EnvironmentSpec[];
  rawEnvs: Raw[];
  baseDir: string;
  file: string | null;
  risk: Risk;
}

/** Validation is the costly part of a look at a plan: done once per applied document and per environment/version. */
const applied = new WeakMap<object, AppliedEnvironments>();
const effectives = new WeakMap<AppliedEnvironments, Map<string, Effective>>();

export function appliedOf(engine: Engine, service: string, gs: GovernanceState): AppliedEnvironments {
  const d = gs.document;
  if (d === null)
    throw new SluiceError(
      'NOT_FOUND',
      `no service "${service}" with spec.environments; apply one first (sluice apply -f FILE)`,
    );
  const known = applied.get(d);
  if (known !== undefined) return known;
  const [spec] = engine.lint(stringify(d.raw), d.file ?? '<stored>');
  const raw = d.raw as Raw & { spec: { environments: Raw[] } };
  const a = {
    service,
    raw,
    spec: spec!,
    envs: spec!.spec.environments ?? [],
    rawEnvs: raw.spec.environments,
    baseDir: d.baseDir,
    file: d.file,
    risk: riskOf(spec!.spec.risk, spec!.metadata.labels),
  };
  applied.set(d, a);
  return a;
}

export function environmentIndex(a: AppliedEnvironments, name: string): number {
  const i = a.envs.findIndex((e) => e.name === name);
  if (i < 0)
    throw new SluiceError(
      'NOT_FOUND',
      `${a.service} has no environment "${name}"; its environments: ${a.envs.map((e) => e.name).join(', ')}`,
    );
  return i;
}

export interface Effective {
  service: string;
  doc: Raw;
  text: string;
  hash: string;
  spec: ServiceSpec;
  policy: EnvironmentPolicy;
}

/** The effective spec of environment `index` running `version`, validated like any applied spec. */
export function effectiveOf(engine: Engine, a: AppliedEnvironments, index: number, version: string): Effective {
  let cache = effectives.get(a);
  if (cache === undefined) effectives.set(a, (cache = new Map()));
  const key = `${index}\u0000${version}`;
  const known = cache.get(key);
  if (known !== undefined) return known;
  const e = buildEffective(engine, a, index, version);
  cache.set(key, e);
  return e;
}

function buildEffective(engine: Engine, a: AppliedEnvironments, index: number, version: string): Effective {
  const env = { raw: a.rawEnvs[index]!, parsed: a.envs[index]! };
  const doc = effectiveDocument(a.raw, env, version, a.risk);
  const text = stringify(doc);
  let spec: ServiceSpec;
  try {
    [spec] = engine.lint(text, `${a.file ?? a.service} (environment ${env.parsed.name})`) as [ServiceSpec];
  } catch (err) {
    if (err instanceof SluiceError)
      throw new SluiceError(err.code, `environment ${env.parsed.name} of ${a.service}: ${err.message}`, err.detail);
    throw err;
  }
  return {
    service: environmentService(a.service, env.parsed.name),
    doc,
    text,
    hash: documentHash(doc),
    spec,
    policy: policyOf(a.envs, index, a.risk, a.spec.spec.owners ?? []),
  };
}

async function statusOrNull(engine: Engine, service: string) {
  try {
    return await engine.status(service);
  } catch (err) {
    if (err instanceof SluiceError && err.code === 'NOT_FOUND') return null;
    throw err;
  }
}

/** The newest release of `version` in `service`, with what the gates take as evidence. */
export async function previousRelease(
  engine: Engine,
  store: Store,
  service: string,
  version: string,
): Promise<PreviousRelease | null> {
  const r = (await store.releases(service, 100)).find((x: ReleaseState) => x.to.version === version);
  if (r === undefined) return null;
  const status = await statusOrNull(engine, service);
  return {
    service,
    id: r.id,
    status: r.status,
    endedAt: r.status === 'Succeeded' ? r.endedAt : null,
    smoke: r.smoke ? { ok: r.smoke.ok, detail: r.smoke.detail } : null,
    verifyMs: r.plan?.verifyMs ?? 0,
    verdicts: Object.values(r.rules).flatMap((x) => (x.last ? [{ rule: x.last.rule, outcome: x.last.outcome }] : [])),
    stableVersion: status?.stableVersion ?? null,
  };
}

function phaseOf(release: { status: string } | null, plan: PlanState | null): GovernancePhase | null {
  if (plan !== null && (plan.status === 'Planned' || plan.status === 'Refused')) return 'Plan';
  switch (release?.status) {
    case undefined:
      return null;
    case 'Starting':
      return 'Stage';
    case 'Progressing':
    case 'Paused':
      return 'Release';
    case 'Verifying':
      return 'Verify';
    case 'Succeeded':
      return 'Done';
    default:
      return 'RolledBack';
  }
}

/** Where each version is, per environment: what `sluice release SERVICE` prints. */
export async function environmentsView(
  engine: Engine,
  a: AppliedEnvironments,
  gs: GovernanceState,
): Promise<EnvironmentsView> {
  const environments: EnvironmentsView['environments'] = [];
  for (const env of a.envs) {
    const service = environmentService(a.service, env.name);
    const s = await statusOrNull(engine, service);
    const last = gs.plans.findLast((p) => p.record.environment === env.name) ?? null;
    const open = last !== null && (last.status === 'Planned' || last.status === 'Refused') ? last : null;
    environments.push({
      environment: env.name,
      service,
      phase: phaseOf(s?.release ?? null, open),
      servicePhase: s?.phase ?? null,
      stableVersion: s?.stableVersion ?? null,
      canaryVersion: s?.canaryVersion ?? null,
      release: s?.release
        ? { id: s.release.id, status: s.release.status, toVersion: s.release.toVersion, startedBy: s.release.startedBy }
        : null,
      plan: last === null ? null : planView(last),
    });
  }
  return { service: a.service, risk: a.risk, version: a.spec.spec.version, environments };
}
