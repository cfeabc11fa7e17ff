import type { ProbeFailure } from '../events.ts';

/** One instance's run of failed probes, newest last; a success ends the run. */
export type ProbeRun = ProbeFailure[];

/**
 * Fold one probe result into an instance's run. `failed` is true when the run reaches the
 * threshold: the caller reports it (with the run as evidence) and starts a new run.
 */
export function tallyProbe(
  run: ProbeRun,
  result: ProbeFailure | 'ok',
  failureThreshold: number,
): { run: ProbeRun; failed: boolean } {
  if (result === 'ok') return { run: [], failed: false };
  const next = [...run, result].slice(-failureThreshold);
  return { run: next, failed: next.length >= failureThreshold };
}
