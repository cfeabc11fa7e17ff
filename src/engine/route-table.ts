import type { ServiceState } from '../core/release/state.ts';
import type { RouteTable } from '../drivers/routers/types.ts';

/**
 * The route table the router must serve for a state: one backend per revision with instances,
 * the release's new revision first (sticky hash ranges grow from the front). A revision with
 * weight but no known endpoints is left out and its weight given to the others, so the router
 * never receives a table it must refuse; `missing` names it.
 */
export function routeTableOf(
  state: ServiceState,
  stickiness?: RouteTable['stickiness'],
): { table: RouteTable; missing: string[] } {
  const first = state.release?.to.key;
  const keys = Object.keys(state.weights).sort((a, b) => (a === first ? -1 : b === first ? 1 : Number(a) - Number(b)));
  const backends: RouteTable['backends'] = [];
  const missing: string[] = [];
  for (const key of keys) {
    const rt = state.runtimes[key];
    const endpoints = rt?.instances.map((i) => i.url) ?? [];
    const weight = state.weights[key] ?? 0;
    if (endpoints.length === 0) {
      if (weight > 0) missing.push(key);
      continue;
    }
    backends.push({ key, version: rt?.version ?? key, weight, endpoints });
  }
  const sum = backends.reduce((n, b) => n + b.weight, 0);
  if (backends.length > 0 && sum !== 100) {
    // Spread the weight of missing backends over the others in proportion (or evenly).
    for (const b of backends) b.weight = sum > 0 ? (b.weight * 100) / sum : 100 / backends.length;
  }
  const table: RouteTable = stickiness ? { backends, stickiness } : { backends };
  // Cohort routes (canary setHeaderRoute, blue-green preview) go only to a backend in the table.
  const routes = (state.routes ?? []).filter((r) => backends.some((b) => b.key === r.key));
  if (routes.length > 0) table.routes = routes;
  return { table, missing };
}
