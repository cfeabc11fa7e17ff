/**
 * Semver ranges as `dependsOn` writes them, through the `semver` package (npm's own: the range
 * grammar users already know from package.json). Versions that are not semver never satisfy one.
 */
import semver from 'semver';

/** Null when `range` is a valid semver range, else what is wrong with it. */
export function rangeProblem(range: string): string | null {
  if (range.trim() === '') return 'an empty range; write one like ">=2.3.0 <3.0.0" or "^2.3.0"';
  return semver.validRange(range) === null
    ? `"${range}" is not a semver range; write one like ">=2.3.0 <3.0.0" or "^2.3.0"`
    : null;
}

/** Whether `version` (e.g. "2.3.1", "v2.3.1") is in `range`; a version that is not semver is not. */
export function satisfies(version: string, range: string): boolean {
  const v = asSemver(version);
  return v !== null && semver.satisfies(v, range, { includePrerelease: true });
}

/** The versions in `known` that satisfy `range`, highest first. */
export function versionsIn(known: readonly string[], range: string): string[] {
  return known.filter((v) => satisfies(v, range)).sort((a, b) => semver.rcompare(asSemver(a)!, asSemver(b)!));
}

/** `version` as semver: as written when valid, else coerced ("2.3" → "2.3.0"); null when neither. */
function asSemver(version: string): string | null {
  return semver.valid(version) ?? semver.coerce(version)?.version ?? null;
}
