import type { KeysFilter } from '../core/analytics/four-keys.ts';
import type { VersionCommits } from '../core/analytics/import-lines.ts';
import type { Commit, Deployment, History, Incident, Window } from '../core/analytics/types.ts';

/** What one batch of writes did: rows added, rows already there unchanged, rows updated (an incident resolved). */
export interface PutCounts {
  added: number;
  unchanged: number;
  updated: number;
}

/**
 * The history the four keys are read from: deployments, commits and incidents imported from a
 * team's tools, and Sluice's own releases projected from the event log (log-projection.ts). Kept
 * apart from the event log's Store: imports are bulk rows queried by time range (100,000
 * deployments answer a six-month query in well under a second through indexes), while the log is
 * the truth of Sluice's own releases and each import is recorded there as one `analytics.imported`
 * event with its counts.
 */
export interface AnalyticsStore {
  /** Imported deployments are kept as first written (same id again: unchanged); Sluice's own are replaced (their commits may be learnt later). */
  putDeployments(deployments: readonly Deployment[]): PutCounts;
  putCommits(commits: readonly Commit[]): PutCounts;
  /** An incident seen again with a new `resolvedAt` is updated (the webhook's "resolved"). */
  putIncidents(incidents: readonly Incident[]): PutCounts;
  putVersionCommits(mappings: readonly VersionCommits[]): PutCounts;
  versionCommits(service: string): Map<string, string[]>;
  /** What the keys of `window` need (a superset: see core/analytics/four-keys.ts). */
  history(filter: KeysFilter, window: Window): History;
  /** Deployments of a window, newest first (for the weekly report's list). */
  deployments(filter: KeysFilter, window: Window, limit: number): Deployment[];
  commits(shas: readonly string[]): Commit[];
  /** Known services with their team, and known environments. */
  catalogue(): { services: { service: string; team: string | null }[]; environments: string[] };
  /** The last log sequence projected (0: none yet). */
  projectedSeq(): number;
  setProjectedSeq(seq: number): void;
  close(): void;
}
