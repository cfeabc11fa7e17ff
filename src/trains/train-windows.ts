/**
 * For a train with spec.window: each waiting service's release window now (a service moved into
 * an environment: its base name's and its own, the first closed). Read on each tick, as releases do.
 */
import type { TrainState, TrainWindow } from '../core/trains/index.ts';
import { windowState } from '../core/windows/window-state.ts';
import { readPolicy } from '../engine/release-policy.ts';

export async function trainWindows(
  t: TrainState,
  dataDir: string | undefined,
  now: number,
): Promise<Map<string, TrainWindow>> {
  const windows = new Map<string, TrainWindow>();
  if (t.spec.window === undefined || t.status !== 'Running' || dataDir === undefined) return windows;
  const waiting = t.services.filter((s) => s.status === 'waiting');
  if (waiting.length === 0) return windows;
  const policy = await readPolicy(dataDir);
  if (policy === null) return windows;
  const env = t.spec.environment;
  for (const s of waiting) {
    const names = env === undefined ? [s.name] : [s.name.slice(0, -`--${env}`.length), s.name];
    const states = names.map((n) => windowState(policy.windows, policy.freezes, n, now));
    windows.set(s.name, states.find((w) => !w.open) ?? states[0]!);
  }
  return windows;
}
