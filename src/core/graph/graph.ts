/**
 * The dependency graph of the services, from what their specs declare (`dependsOn`) and the
 * versions actually running (read from the log by the engine), with the violations in it.
 */
import { dependencyLevels, findCycle } from './order.ts';
import { satisfies } from './semver-range.ts';
import type { DependencyGraph, GraphEdge, GraphService, Violation } from './types.ts';

/** Each service → the names it depends on. */
export function needsOf(services: readonly GraphService[]): Map<string, string[]> {
  return new Map(services.map((s) => [s.name, s.dependsOn.map((d) => d.service)]));
}

/** Edges, violations and release levels of `services` (a cycle leaves the levels empty). */
export function dependencyGraph(services: readonly GraphService[]): DependencyGraph {
  const byName = new Map(services.map((s) => [s.name, s]));
  const edges: GraphEdge[] = [];
  const violations: Violation[] = [];
  for (const s of services) {
    for (const d of s.dependsOn) {
      const running = byName.get(d.service)?.running ?? null;
      const met = running !== null && satisfies(running, d.range);
      edges.push({ from: s.name, to: d.service, range: d.range, met });
      // A service not deployed yet cannot be running against anything.
      if (met || s.running === null) continue;
      const message = !byName.has(d.service)
        ? `${s.name} ${s.running} depends on ${d.service} ${d.range}, and there is no service ${d.service}`
        : running === null
          ? `${s.name} ${s.running} depends on ${d.service} ${d.range}, and ${d.service} runs nothing yet`
          : `${s.name} ${s.running} depends on ${d.service} ${d.range}, and ${d.service} runs ${running}`;
      violations.push({ service: s.name, dependency: d.service, range: d.range, running, message });
    }
  }
  const needs = needsOf(services);
  const levels = findCycle(needs) === null ? dependencyLevels(needs) : [];
  return { services: [...services].sort((a, b) => a.name.localeCompare(b.name)), edges, violations, levels };
}
