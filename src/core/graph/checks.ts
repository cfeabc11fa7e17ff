/**
 * The checks made wherever a version changes: at apply (the declarations themselves), before a
 * release starts (its dependencies run a version in range), and before a person's rollback (no
 * running dependent is left outside its range). The automatic rollback of a failing canary is
 * never checked: the canary was not yet serving everyone, so the stable version is compatible.
 */
import { dependentsOf, findCycle } from './order.ts';
import { rangeProblem, satisfies, versionsIn } from './semver-range.ts';
import type { Dependency, GraphService } from './types.ts';

/** One problem with one `dependsOn` entry of one applied service (`index`: its place in the list). */
export interface DeclarationProblem {
  service: string;
  index: number;
  message: string;
}

/**
 * What is wrong with the `dependsOn` of `applied` among the services that exist (`existing`,
 * replaced by the applied ones): an unknown service, an invalid range, a range no known version
 * meets, a dependency on itself, a cycle.
 */
export function declarationProblems(
  applied: readonly GraphService[],
  existing: readonly GraphService[],
): DeclarationProblem[] {
  const all = new Map(existing.map((s) => [s.name, s]));
  for (const s of applied)
    all.set(s.name, { ...s, known: [...new Set([...(all.get(s.name)?.known ?? []), ...s.known])] });
  const problems: DeclarationProblem[] = [];
  for (const s of applied) {
    s.dependsOn.forEach((d, index) => {
      const problem = entryProblem(s.name, d, all);
      if (problem !== null) problems.push({ service: s.name, index, message: problem });
    });
  }
  const cycle = findCycle(new Map([...all].map(([name, s]) => [name, s.dependsOn.map((d) => d.service)])));
  if (cycle !== null) {
    const at = applied.find((s) => cycle.includes(s.name)) ?? applied[0];
    if (at !== undefined) {
      const index = Math.max(
        0,
        at.dependsOn.findIndex((d) => cycle.includes(d.service)),
      );
      problems.push({
        service: at.name,
        index,
        message: `dependency cycle ${cycle.join(' → ')}: services that depend on each other cannot be released in any order; remove one of these dependsOn entries`,
      });
    }
  }
  return problems;
}

function entryProblem(name: string, d: Dependency, all: ReadonlyMap<string, GraphService>): string | null {
  if (d.service === name) return `${name} depends on itself; remove this entry`;
  const target = all.get(d.service);
  if (target === undefined)
    return `unknown service ${JSON.stringify(d.service)}; known services: ${
      [...all.keys()]
        .filter((n) => n !== name)
        .sort()
        .join(', ') || '(none)'
    }`;
  const bad = rangeProblem(d.range);
  if (bad !== null) return bad;
  if (versionsIn(target.known, d.range).length === 0) {
    return `no version of ${d.service} meets "${d.range}": its known versions are ${target.known.join(', ') || '(none)'}; apply a ${d.service} version in range first, or widen the range`;
  }
  return null;
}

/** A dependency not running a version in range: the release waits for it, or can never start. */
export interface UnmetDependency {
  service: string;
  range: string;
  running: string | null;
  /** No known version of the dependency is in range: waiting would never end. */
  never: boolean;
  message: string;
}

/** The dependencies of `dependsOn` that `services` do not run in range. */
export function unmetDependencies(
  dependsOn: readonly Dependency[],
  services: readonly GraphService[],
): UnmetDependency[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const unmet: UnmetDependency[] = [];
  for (const d of dependsOn) {
    const dep = byName.get(d.service);
    const running = dep?.running ?? null;
    if (running !== null && satisfies(running, d.range)) continue;
    const never = dep === undefined || versionsIn(dep.known, d.range).length === 0;
    const runs = running === null ? 'runs nothing yet' : `runs ${running}`;
    const message = never
      ? `${d.service} ${dep === undefined ? 'does not exist' : runs} and none of its versions (${dep?.known.join(', ') ?? 'none'}) meets "${d.range}"`
      : `${d.service} ${runs}, not a version in "${d.range}"${dep?.releasing ? ` (${dep.releasing} is being released)` : ''}`;
    unmet.push({ service: d.service, range: d.range, running, never, message });
  }
  return unmet;
}

/** A running service a rollback to `version` would leave outside its range. */
export interface BrokenDependent {
  service: string;
  running: string;
  range: string;
  message: string;
}

/**
 * The running dependents of `service` whose range excludes `version`: a person's rollback or
 * undo to it is refused before anything changes (never the automatic rollback of a canary).
 */
export function brokenDependents(
  service: string,
  version: string,
  services: readonly GraphService[],
): BrokenDependent[] {
  const needs = new Map(services.map((s) => [s.name, s.dependsOn.map((d) => d.service)]));
  const byName = new Map(services.map((s) => [s.name, s]));
  const broken: BrokenDependent[] = [];
  for (const name of dependentsOf(needs, service)) {
    const dependent = byName.get(name)!;
    if (dependent.running === null) continue;
    for (const d of dependent.dependsOn) {
      if (d.service !== service || satisfies(version, d.range)) continue;
      broken.push({
        service: name,
        running: dependent.running,
        range: d.range,
        message: `${name} ${dependent.running} depends on ${service} "${d.range}", and ${version} is not in it`,
      });
    }
  }
  return broken;
}

/** What to do instead of a refused rollback: fail forward, or roll the dependents back first. */
export function failForward(
  service: string,
  version: string,
  broken: readonly BrokenDependent[],
  known: readonly string[],
): string {
  const ranges = broken.map((b) => `"${b.range}"`).join(' and ');
  const candidates = versionsIn(known, '*').filter((v) => v !== version && broken.every((b) => satisfies(v, b.range)));
  const forward =
    candidates.length > 0
      ? `release ${service} ${candidates[0]} (in ${ranges}) or a fixed version in range`
      : `release a fixed ${service} version in ${ranges}`;
  return `fail forward instead: ${forward}, or roll back ${broken.map((b) => b.service).join(', ')} first to a version that accepts ${service} ${version}`;
}
