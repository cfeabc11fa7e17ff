/**
 * The router's data plane dying: each death is recorded (a problem until the router has started
 * it again), and a data plane that keeps dying pauses the release in progress, since its traffic
 * (and so its evidence) comes and goes. A person resumes it once the cause is fixed.
 */
import type { DecisionBuilder, Input } from './decision.ts';
import { DATA_PLANE_DEATH_WINDOW_MS, DATA_PLANE_DEATHS_TO_PAUSE } from './data-plane-deaths.ts';

export { DATA_PLANE_DEATH_WINDOW_MS, DATA_PLANE_DEATHS_TO_PAUSE } from './data-plane-deaths.ts';

export function routerDied(b: DecisionBuilder, input: Extract<Input, { type: 'routerDied' }>): void {
  b.emit({ type: 'router.died', pid: input.pid, detail: input.detail });
  const deaths = (b.state.routerDeaths ?? []).filter((t) => t > b.now - DATA_PLANE_DEATH_WINDOW_MS).length;
  const r = b.state.release;
  if (r?.status !== 'Progressing' || deaths < DATA_PLANE_DEATHS_TO_PAUSE) return;
  b.emit({
    type: 'release.paused',
    reason: 'dataPlane',
    detail: `the data plane died ${deaths} times within ${DATA_PLANE_DEATH_WINDOW_MS / 1000} s (last: ${input.detail}); resume once it stays up`,
  });
}
