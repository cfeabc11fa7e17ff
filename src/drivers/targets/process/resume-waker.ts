/**
 * The TTL of a stopped instance, held outside the controller: a detached `sh` that sends SIGCONT
 * to the instance's process group when the stop's time is up. It runs in its own session, so it
 * outlives a controller that dies (or is SIGKILLed) while an instance is stopped; a drill's fault
 * never outlasts its `for` (docs/drills.md). A SIGCONT to a running group is a no-op, so a waker
 * that fires after a resume does no harm; it is ended on the resume all the same.
 */
import { spawn } from 'node:child_process';

/** Sends SIGCONT to group `pgid` after `ttlMs`, from a process of its own; returns the cancel. */
export function resumeAfter(pgid: number, ttlMs: number): () => void {
  const seconds = (Math.max(0, ttlMs) / 1000).toFixed(3);
  // The numbers are positional parameters, never part of the script text. (dash's kill takes no `--`.)
  const waker = spawn('/bin/sh', ['-c', 'sleep "$0"; kill -CONT -"$1" 2>/dev/null', seconds, String(pgid)], {
    detached: true,
    stdio: 'ignore',
  });
  waker.on('error', () => undefined);
  waker.unref();
  return () => {
    if (waker.exitCode === null && waker.signalCode === null) waker.kill('SIGKILL');
  };
}
