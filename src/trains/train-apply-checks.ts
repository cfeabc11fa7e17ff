/**
 * What refuses a ReleaseTrain at apply, each problem at its file and line: a service that does not
 * exist, one released through environments named without spec.environment (or into one it does not
 * have), and a spec.window naming a release policy other than the server's.
 */
import type { TrainPositions, TrainSpec } from '../core/trains/index.ts';
import type { ServiceFacts } from '../engine/dependency-graph.ts';
import { readPolicy } from '../engine/release-policy.ts';
import type { TrainEnvironments } from './train-members.ts';

export interface TrainApplyFacts {
  /** Every service (replicated: those every replica runs). */
  facts: readonly ServiceFacts[];
  environments?: TrainEnvironments;
  /** The server's data dir: its release policy. */
  dataDir?: string;
}

export async function trainApplyProblems(
  spec: TrainSpec,
  at: TrainPositions,
  file: string,
  d: TrainApplyFacts,
): Promise<string[]> {
  const facts = d.facts;
  const problems: string[] = spec.services.flatMap((s, i) => {
    const where = at[`spec.services.${i}`];
    const prefix = where === undefined ? file : `${where.file}:${where.line}:${where.column}`;
    const envs = d.environments?.of(s.name) ?? null;
    if (spec.environment !== undefined) {
      if (envs?.includes(spec.environment)) return [];
      return [
        envs === null
          ? `${prefix}: spec.services[${i}]: ${s.name} has no spec.environments; spec.environment (${spec.environment}) moves services released through environments`
          : `${prefix}: spec.services[${i}]: ${s.name} has no environment ${JSON.stringify(spec.environment)}; its environments: ${envs.join(', ')}`,
      ];
    }
    if (facts.some((f) => f.name === s.name)) return [];
    const environments = facts.filter((f) => f.name.startsWith(`${s.name}--`)).map((f) => f.name);
    return [
      environments.length > 0
        ? `${prefix}: spec.services[${i}]: ${s.name} is released through its environments (${environments.join(', ')}); name the one the train moves it into with spec.environment`
        : `${prefix}: spec.services[${i}]: unknown service ${JSON.stringify(s.name)}; apply its Service spec first; known services: ${
            facts
              .map((f) => f.name)
              .sort()
              .join(', ') || '(none)'
          }`,
    ];
  });
  if (spec.window !== undefined) {
    const where = at['spec.window.policy'];
    const prefix = where === undefined ? file : `${where.file}:${where.line}:${where.column}`;
    const policy = d.dataDir === undefined ? null : await readPolicy(d.dataDir);
    if (policy === null)
      problems.push(
        `${prefix}: spec.window.policy: "${spec.window.policy}": no release policy is installed on this server; apply a kind: ReleasePolicy first (sluice apply -f policy.yaml), or remove spec.window`,
      );
    else if (policy.name !== spec.window.policy)
      problems.push(
        `${prefix}: spec.window.policy: "${spec.window.policy}" is not the server's release policy; valid: "${policy.name}" (the metadata.name of the ReleasePolicy applied)`,
      );
  }
  return problems;
}
