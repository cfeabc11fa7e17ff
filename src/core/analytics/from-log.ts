import type { ServiceEvent } from '../events.ts';
import type { Deployment } from './types.ts';

/** Environments run as services `<name>--<environment>`; a service without one is production. */
export function serviceEnvironment(logName: string): { service: string; environment: string } {
  const cut = logName.indexOf('--');
  return cut < 0
    ? { service: logName, environment: 'production' }
    : { service: logName.slice(0, cut), environment: logName.slice(cut + 2) };
}

/** What the log alone does not hold, looked up by the caller. */
export interface DeploymentFacts {
  /** The commits a version shipped (from git or `sluice apply --commit`). */
  commitsOf?: (version: string) => string[];
  /** The flags the revision a release moved to declares (`spec.flags`). */
  flagsOf?: (revisionKey: string) => readonly string[];
  /** Whether a rollback rehearsal of this version for this environment passed before `at`. */
  rehearsedBefore?: (version: string, environment: string, at: number) => boolean;
}

interface Open {
  id: string;
  number: number;
  toKey: string;
  version: string;
  startedAt: number;
  firstTrafficAt: number | null;
  progressive: boolean;
  revert: { detectedAt: number; status: 'RolledBack' | 'Aborted' } | null;
}

/**
 * The deployments in one service's log: each release that ended, promoted to 100% (`release.succeeded`)
 * or rolled back once its new version had taken traffic (`rollback.trafficReverted`). A release rolled
 * back before any traffic reached it never reached its environment and is not a deployment. Progressive:
 * the new version served a share strictly between 0 and 100%, or a cohort, before it ended. Rehearsed
 * and behind a flag are known only when the caller gives the facts to decide them (null otherwise).
 */
export function deploymentsFromLog(
  logName: string,
  events: readonly ServiceEvent[],
  team: string | null,
  facts: DeploymentFacts = {},
): Deployment[] {
  const { service, environment } = serviceEnvironment(logName);
  const out: Deployment[] = [];
  let open: Open | null = null;
  const base = (o: Open) => ({
    id: `sluice:${logName}:${o.number}`,
    service,
    environment,
    team,
    version: o.version,
    startedAt: o.startedAt,
    firstTrafficAt: o.firstTrafficAt,
    commits: facts.commitsOf?.(o.version) ?? [],
    progressive: o.progressive,
    rehearsed: facts.rehearsedBefore?.(o.version, environment, o.startedAt) ?? null,
    behindFlag: facts.flagsOf === undefined ? null : facts.flagsOf(o.toKey).length > 0,
    source: 'sluice' as const,
  });
  for (const e of events) {
    if (e.type === 'release.started') {
      open = {
        id: e.release.id,
        number: e.release.number,
        toKey: e.release.to.key,
        version: e.release.to.version,
        startedAt: e.at,
        firstTrafficAt: null,
        progressive: false,
        revert: null,
      };
      continue;
    }
    if (open === null) continue;
    switch (e.type) {
      case 'traffic.applied': {
        const w = e.weights[open.toKey] ?? 0;
        if (w > 0 && open.firstTrafficAt === null) open.firstTrafficAt = e.at;
        if (w > 0 && w < 100) open.progressive = true;
        break;
      }
      case 'routes.set':
        if (e.routes.some((r) => r.key === open!.toKey)) {
          open.progressive = true;
          open.firstTrafficAt ??= e.at;
        }
        break;
      case 'rollback.started':
        open.revert = { detectedAt: e.log.detectedAt, status: e.status };
        break;
      case 'release.succeeded':
        out.push({ ...base(open), finishedAt: e.at, result: 'success', trafficRevertedAt: null, revertMs: null });
        open = null;
        break;
      case 'rollback.trafficReverted':
        if (open.firstTrafficAt !== null) {
          out.push({
            ...base(open),
            finishedAt: e.at,
            result: 'rolledback',
            trafficRevertedAt: e.at,
            revertMs: open.revert === null ? null : e.at - open.revert.detectedAt,
          });
        }
        open = null;
        break;
      case 'release.failed':
        open = null;
        break;
      default:
        break;
    }
  }
  return out;
}
