/**
 * One environment's flags as applications get them: the flags that have the environment (not
 * archived), compiled once per version of the flag set, and the set as the in-process provider
 * downloads it (the definitions for that environment only, segments included).
 */
import { compileFlag, type CompiledFlag } from '../core/flags/evaluate.ts';
import type { FlagSet } from '../core/flags/flag-set.ts';
import type { FeatureFlag, Segment } from '../core/flags/model.ts';
import { rampPercent } from '../core/flags/ramp.ts';

/** What a provider downloads: enough to evaluate every flag of the environment locally. */
export interface EnvironmentFlagSet {
  environment: string;
  /** The flag set's version (the seq of its last change). */
  version: number;
  flags: FeatureFlag[];
  segments: Segment[];
}

export function environmentFlagSet(set: FlagSet, environment: string): EnvironmentFlagSet {
  const flags = Object.values(set.flags)
    .filter((r) => !r.archived && r.flag.environments[environment] !== undefined)
    .map((r) => ({ ...r.flag, environments: { [environment]: r.flag.environments[environment]! } }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const used = new Set(flags.flatMap((f) => f.environments[environment]!.rules.flatMap((r) => r.segments)));
  return { environment, version: set.version, flags, segments: Object.values(set.segments).filter((s) => used.has(s.name)) };
}

/** Compile an environment's downloaded set (the provider and the proxy do this on each change). */
export function compileEnvironment(s: EnvironmentFlagSet): Map<string, CompiledFlag> {
  const segments = new Map(s.segments.map((x) => [x.name, x]));
  return new Map(s.flags.map((f) => [f.name, compileFlag(f, s.environment, segments)]));
}

/**
 * The compiled flags of each environment, rebuilt when the set's version changes. The ETag
 * names the version and every ramp's percent now, so a ramp's step changes it too.
 */
export class EnvironmentFlags {
  readonly #cache = new Map<string, { version: number; compiled: Map<string, CompiledFlag>; ramps: FeatureFlag['environments'][string]['rules'][number]['ramp'][] }>();

  of(set: FlagSet, environment: string) {
    const hit = this.#cache.get(environment);
    if (hit !== undefined && hit.version === set.version) return hit;
    const downloaded = environmentFlagSet(set, environment);
    const entry = {
      version: set.version,
      compiled: compileEnvironment(downloaded),
      ramps: downloaded.flags.flatMap((f) => f.environments[environment]!.rules.map((r) => r.ramp).filter((r) => r !== undefined)),
    };
    this.#cache.set(environment, entry);
    return entry;
  }

  etag(set: FlagSet, environment: string, now: number): string {
    const { ramps } = this.of(set, environment);
    const steps = ramps.map((r) => rampPercent(r!, now)).join('.');
    return `"${environment}-${set.version}${steps === '' ? '' : `-${steps}`}"`;
  }
}
