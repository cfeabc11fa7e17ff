/** Each host's revert time in a rollback log (a router over several hosts; see hosts.ts). */
import type { RollbackLog } from '../types.ts';

/** The rollback log with each host's revert time, from one apply across the hosts. */
export function withHostReverts(
  log: RollbackLog,
  canaryKey: string,
  event: { weights: Record<string, number>; applied: Record<string, number>; unreachable: Record<string, string> },
): RollbackLog {
  if ((event.weights[canaryKey] ?? 0) !== 0) return log;
  const hosts: Record<string, number | null> = { ...log.hosts };
  for (const [host, at] of Object.entries(event.applied)) hosts[host] ??= at;
  for (const host of Object.keys(event.unreachable)) hosts[host] ??= null;
  return { ...log, hosts };
}
