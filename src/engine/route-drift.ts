import type { RouteTable } from '../drivers/routers/types.ts';

/** Weights closer than this (percentage points) are the same weight. */
const WEIGHT_TOLERANCE = 0.01;

const list = (endpoints: string[]) => [...endpoints].sort().join(', ');
const cohorts = (t: RouteTable) => JSON.stringify([...(t.routes ?? [])].map((r) => JSON.stringify(r)).sort());

/**
 * What differs between the table Sluice gave the router and the one it reads back, one plain line
 * per difference ([] when they agree): backends missing or extra, weights, endpoints, cohort
 * routes. Order and stickiness are not compared (a router may add its configured stickiness).
 */
export function routeDrift(intended: RouteTable, served: RouteTable | null): string[] {
  if (served === null) return ['the router serves no table'];
  const differences: string[] = [];
  const servedByKey = new Map(served.backends.map((b) => [b.key, b]));
  for (const want of intended.backends) {
    const got = servedByKey.get(want.key);
    const name = `revision ${want.key} (${want.version})`;
    if (got === undefined) {
      if (want.weight > 0) differences.push(`${name} is not served (intended ${want.weight}%)`);
      continue;
    }
    if (Math.abs(got.weight - want.weight) > WEIGHT_TOLERANCE)
      differences.push(`${name} has ${got.weight}% (intended ${want.weight}%)`);
    if (list(got.endpoints) !== list(want.endpoints))
      differences.push(`${name} goes to ${list(got.endpoints)} (intended ${list(want.endpoints)})`);
  }
  const intendedKeys = new Set(intended.backends.map((b) => b.key));
  for (const extra of served.backends.filter((b) => !intendedKeys.has(b.key))) {
    differences.push(
      `backend ${extra.key} (${extra.version}) is served with ${extra.weight}% to ${list(extra.endpoints)}; Sluice did not ask for it`,
    );
  }
  if (cohorts(served) !== cohorts(intended)) {
    differences.push(
      `cohort routes are ${JSON.stringify(served.routes ?? [])} (intended ${JSON.stringify(intended.routes ?? [])})`,
    );
  }
  return differences;
}
