/**
 * What the four keys are computed from: deployments, commits and incidents, whether they come from
 * Sluice's own log (from-log.ts) or were imported from a team's history. Times are epoch ms.
 */

/** A release to an environment that ended: promoted to 100% (`success`) or rolled back. */
export interface Deployment {
  /** Unique across sources: `sluice:<service>:<release id>` for Sluice's own, the import's id otherwise. */
  id: string;
  service: string;
  environment: string;
  /** The service's `team` label (null: none). */
  team: string | null;
  version: string;
  startedAt: number;
  finishedAt: number;
  result: 'success' | 'rolledback';
  /** When the failing version first received production traffic (null: not known; `startedAt` is used). */
  firstTrafficAt: number | null;
  /** When all traffic was back on the previous version (rolled back only). */
  trafficRevertedAt: number | null;
  /** From the failure's detection to the traffic revert (Sluice's rollbacks only; null otherwise). */
  revertMs: number | null;
  /** Shas of the commits this deployment shipped (some may have shipped before). */
  commits: string[];
  /** Not 0→100 at once (null: not known). */
  progressive: boolean | null;
  /** Rehearsed before it shipped (null: not known). */
  rehearsed: boolean | null;
  /** Its change shipped behind a feature flag (null: not known). */
  behindFlag: boolean | null;
  source: 'sluice' | 'import';
}

export interface Commit {
  sha: string;
  service: string;
  committedAt: number;
  /** The first line of its message (null: not known). */
  message: string | null;
}

export interface Incident {
  id: string;
  service: string;
  /** Incidents are of production unless the import says otherwise. */
  environment: string;
  openedAt: number;
  /** Null while the incident is open. */
  resolvedAt: number | null;
}

/** A half-open span of time [since, until). */
export interface Window {
  since: number;
  until: number;
}

export type Bucketing = 'day' | 'week' | 'month';

/** A commit's first successful deployment to an environment: where its lead time ends. */
export interface Shipment {
  /** Empty when the caller did not need it (the store reads only the times). */
  sha: string;
  deploymentId: string;
  shippedAt: number;
  /** Null when the commit's time is not known. */
  committedAt: number | null;
}

/** Everything the keys of one window need; a superset is fine (see four-keys.ts). */
export interface History {
  deployments: Deployment[];
  commits: Commit[];
  incidents: Incident[];
  /**
   * The first shipments, when the caller already knows them (the store keeps them as deployments are
   * written, by `isEarlierShipment`); otherwise they are found from the deployments' commits.
   */
  shipments?: Shipment[];
  /** With a team filter: the services carrying that team label, when the caller knows more than `deployments` shows. */
  teamServices?: string[];
}
