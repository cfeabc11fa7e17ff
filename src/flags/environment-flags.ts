/** One environment's flags compiled once per version of the flag set, for OFREP (core/flags/environment-set.ts). */
import { compileEnvironment, environmentFlagSet } from '../core/flags/environment-set.ts';
import type { CompiledFlag } from '../core/flags/evaluate.ts';
import type { FlagSet } from '../core/flags/flag-set.ts';
import type { FeatureFlag } from '../core/flags/model.ts';
import { rampPercent } from '../core/flags/ramp.ts';

/**
 * The compiled flags of each environment, rebuilt when the set's version changes. The ETag
 * names the version and every ramp's percent now, so a ramp's step changes it too.
 */
export class EnvironmentFlags {
  readonly #cache = new Map<
    string,
    {
      version: number;
      compiled: Map<string, CompiledFlag>;
      ramps: FeatureFlag['environments'][string]['rules'][number]['ramp'][];
    }
  >();

  of(set: FlagSet, environment: string) {
    const hit = this.#cache.get(environment);
    if (hit !== undefined && hit.version === set.version) return hit;
    const downloaded = environmentFlagSet(set, environment);
    const entry = {
      version: set.version,
      compiled: compileEnvironment(downloaded),
      ramps: downloaded.flags.flatMap((f) =>
        f.environments[environment]!.rules.map((r) => r.ramp).filter((r) => r !== undefined),
      ),
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
