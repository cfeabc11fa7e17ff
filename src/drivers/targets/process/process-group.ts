/**
 * Liveness and termination of an instance's process group. Instances are spawned detached, so
 * each is the leader of its own group (pgid = pid) and stopping the group also stops anything
 * the command forked.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const POLL_MS = 50;

/** /proc/<pid>/stat fields after the command name, or null when /proc has no such process. */
function procStat(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/**
 * True while the process exists and is not a zombie. A zombie still answers kill(pid, 0), and
 * an orphan's zombie lingers when the init process does not reap, so /proc is consulted on Linux.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = procStat(pid);
  // On Linux a missing /proc entry means it exited between the two calls.
  if (stat === null) return process.platform !== 'linux';
  return stat[0] !== 'Z';
}

/** The process group of `pid` (Linux), or null when unknown. Guards against pid reuse. */
export function groupOf(pid: number): number | null {
  const stat = procStat(pid);
  const pgrp = stat?.[2];
  return pgrp === undefined ? null : Number(pgrp);
}

/** Signals the group, or the single process when the group is gone or not ours. Never throws. */
export function signalGroup(pid: number, pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
    return;
  } catch {
    // The group may already be gone while the leader lingers; fall back to the pid.
  }
  try {
    process.kill(pid, signal);
  } catch {
    // Already dead: stopping is idempotent.
  }
}

/**
 * SIGTERM the group, wait up to `timeoutMs` for the leader to exit, then SIGKILL the group so no
 * straggler outlives the instance. Resolves `'exited'` or `'killed'`; a dead instance is `'exited'`.
 */
export async function stopGroup(pid: number, pgid: number, timeoutMs: number): Promise<'exited' | 'killed'> {
  if (!isAlive(pid)) {
    killStragglers(pgid);
    return 'exited';
  }
  signalGroup(pid, pgid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(POLL_MS);
  const outcome = isAlive(pid) ? 'killed' : 'exited';
  signalGroup(pid, pgid, 'SIGKILL');
  while (isAlive(pid)) await sleep(POLL_MS);
  return outcome;
}

/** Whatever the command forked may outlive the leader; the leader's pid is not touched here. */
function killStragglers(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // No group left: nothing to stop.
  }
}
