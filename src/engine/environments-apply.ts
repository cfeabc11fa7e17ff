/**
 * `sluice apply` of a Service with spec.environments: every environment's effective spec is built
 * and validated, the document is recorded, the first environment gets the release, and later
 * environments take configuration changes (a new template reaches them only with a release).
 */
import { emptyGovernance, foldGovernance } from '../core/plan/governance-state.ts';
import type { GovernanceEvent } from '../core/plan/events.ts';
import { templateHash } from '../spec/index.ts';
import { environmentService } from './effective-spec.ts';
import { appliedOf, effectiveOf } from './environment-facts.ts';
import type { ApplyResult } from '../views/apply-result.ts';
import type { ApplyOptions, Engine } from './engine.ts';
import { SluiceError } from '../errors.ts';

export interface ApplyContext {
  engine: Engine;
  /** Records governance events in the service's log. */
  record: (events: GovernanceEvent[]) => Promise<void>;
  renewOpenPlans: () => Promise<void>;
  now: number;
}

export async function applyEnvironments(
  ctx: ApplyContext,
  service: string,
  raw: Record<string, unknown>,
  o: ApplyOptions,
): Promise<ApplyResult[]> {
  const { engine } = ctx;
  if (engine.list().some((s) => s.service === service)) {
    throw new SluiceError(
      'CONFLICT',
      `${service} runs without environments; delete it (sluice delete ${service}) before applying it with spec.environments`,
    );
  }
  const names = (raw.spec as { environments: { name: string }[] }).environments.map((e) => e.name);
  const candidate = foldGovernance(emptyGovernance(), {
    type: 'environments.applied',
    document: raw,
    baseDir: o.baseDir,
    file: o.file,
    environments: names,
    at: ctx.now,
  });
  const a = appliedOf(engine, service, candidate);
  const effective = a.envs.map((_, i) => effectiveOf(engine, a, i, a.spec.spec.version));
  const routers = new Map<string, string>();
  for (const [i, e] of effective.entries()) {
    const key = JSON.stringify(e.spec.spec.router);
    if (routers.has(key))
      throw new SluiceError(
        'SPEC_INVALID',
        `${o.file}: environments ${routers.get(key)} and ${a.envs[i]!.name} share one router config; give each environment its own router.listen`,
      );
    routers.set(key, a.envs[i]!.name);
  }
  await ctx.record([
    { type: 'environments.applied', document: raw, baseDir: o.baseDir, file: o.file, environments: names },
  ]);
  const results = await engine.apply(effective[0]!.text, o);
  await ctx.renewOpenPlans();
  // Later environments take config changes now; a new template reaches them only with a release.
  for (const [i, env] of a.envs.entries()) {
    if (i === 0) continue;
    const name = environmentService(service, env.name);
    const status = engine.list().find((s) => s.service === name);
    if (status?.stableVersion == null || status.canaryVersion !== null) continue;
    const e = effectiveOf(engine, a, i, status.stableVersion);
    const stable = (await engine.revisions(name)).find((r) => r.key === status.stableRevision);
    if (stable?.templateHash === templateHash(e.spec)) results.push(...(await engine.apply(e.text, o)));
    else
      results.push({
        service: name,
        action: 'unchanged',
        revision: status.stableRevision ?? '',
        version: status.stableVersion,
        message: `the new target template reaches ${env.name} with its next release (sluice release ${service} --version V --to ${env.name})`,
      });
  }
  return results;
}
