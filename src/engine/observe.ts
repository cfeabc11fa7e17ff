import type { Observation } from '../core/judge.ts';
import { isActive, type ServiceState } from '../core/state.ts';
import type { Measurement } from '../core/types.ts';
import type { MetricsProvider } from '../drivers/types.ts';
import { messageOf, withTimeout } from './retry.ts';

/**
 * Gather what the judge needs for the active release: canary and baseline figures over the
 * contract's window, and their crash counts. A slow or failing provider yields an error
 * measurement (Inconclusive), never a hang and never zeros.
 */
export async function collectObservation(state: ServiceState, metrics: MetricsProvider, now: number): Promise<Observation> {
  const r = state.release;
  if (!isActive(r) || r.from === null) throw new Error('no release to observe');
  const { windowMs, intervalMs } = r.contract;
  const canaryKey = r.to.key;
  const baselineKey = r.from.key;
  let figures: Record<string, Measurement>;
  try {
    figures = await withTimeout(metrics.collect([canaryKey, baselineKey], windowMs), Math.max(1_000, intervalMs), 'metrics collection');
  } catch (err) {
    const error: Measurement = { kind: 'error', message: messageOf(err) };
    figures = { [canaryKey]: error, [baselineKey]: error };
  }
  const crashes = (key: string) => (state.runtimes[key]?.crashes ?? []).filter((t) => t > now - windowMs).length;
  return {
    canary: figures[canaryKey] ?? { kind: 'noData' },
    baseline: figures[baselineKey] ?? { kind: 'noData' },
    canaryCrashes: crashes(canaryKey),
    baselineCrashes: crashes(baselineKey),
  };
}
