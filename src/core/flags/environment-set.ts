/**
 * One environment's flags as applications and the built-in proxy get them: the flags that have
 * the environment (not archived), with that environment's definition only, and the segments
 * their rules use. Enough to evaluate every flag locally.
 */
import { compileFlag, type CompiledFlag } from './evaluate.ts';
import type { FlagSet } from './flag-set.ts';
import type { FeatureFlag, Segment } from './model.ts';

export interface EnvironmentFlagSet {
  environment: string;
  /** The flag set's version (the seq of its last change). */
  version: number;
  flags: FeatureFlag[];
  segments: Segment[];
}

export function environmentFlagSet(set: FlagSet, environment: string, only?: ReadonlySet<string>): EnvironmentFlagSet {
  const flags = Object.values(set.flags)
    .filter(
      (r) =>
        !r.archived && r.flag.environments[environment] !== undefined && (only === undefined || only.has(r.flag.name)),
    )
    .map((r) => ({ ...r.flag, environments: { [environment]: r.flag.environments[environment]! } }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const used = new Set(flags.flatMap((f) => f.environments[environment]!.rules.flatMap((r) => r.segments)));
  return {
    environment,
    version: set.version,
    flags,
    segments: Object.values(set.segments).filter((s) => used.has(s.name)),
  };
}

/** Compile a downloaded set (the provider and the proxy do this on each change). */
export function compileEnvironment(s: EnvironmentFlagSet): Map<string, CompiledFlag> {
  const segments = new Map(s.segments.map((x) => [x.name, x]));
  return new Map(s.flags.map((f) => [f.name, compileFlag(f, s.environment, segments)]));
}
