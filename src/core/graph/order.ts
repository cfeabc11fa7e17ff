/**
 * Order in a dependency graph: a cycle (refused at apply), and levels — what depends on nothing
 * first, then what depends only on those — which is the order a train releases in.
 */

/** `needs`: each service → the services it depends on (names outside the map are ignored). */
export type Needs = ReadonlyMap<string, readonly string[]>;

/** A cycle as the path that closes it (["a", "b", "a"]), or null when there is none. */
export function findCycle(needs: Needs): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): string[] | null => {
    if (state.get(name) === 'done') return null;
    if (state.get(name) === 'open') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'open');
    path.push(name);
    for (const next of needs.get(name) ?? []) {
      if (!needs.has(next)) continue;
      const cycle = visit(next);
      if (cycle !== null) return cycle;
    }
    path.pop();
    state.set(name, 'done');
    return null;
  };
  for (const name of [...needs.keys()].sort()) {
    const cycle = visit(name);
    if (cycle !== null) return cycle;
  }
  return null;
}

/** Levels of an acyclic graph, each sorted by name; throws on a cycle (check with findCycle first). */
export function dependencyLevels(needs: Needs): string[][] {
  const level = new Map<string, number>();
  const levelOf = (name: string, seen: Set<string>): number => {
    const known = level.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) throw new Error(`dependency cycle through ${name}`);
    seen.add(name);
    const deps = (needs.get(name) ?? []).filter((d) => needs.has(d));
    const l = deps.length === 0 ? 0 : 1 + Math.max(...deps.map((d) => levelOf(d, seen)));
    seen.delete(name);
    level.set(name, l);
    return l;
  };
  const levels: string[][] = [];
  for (const name of needs.keys()) {
    const l = levelOf(name, new Set());
    (levels[l] ??= []).push(name);
  }
  return levels.map((names) => names.sort());
}

/** Those in `needs` that depend on `service` (directly). */
export function dependentsOf(needs: Needs, service: string): string[] {
  return [...needs]
    .filter(([, deps]) => deps.includes(service))
    .map(([name]) => name)
    .sort();
}
