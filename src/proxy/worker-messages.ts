/**
 * What the primary of a multi-worker proxy (worker-plane.ts) and its workers (worker.ts) say to
 * each other over the cluster's IPC channel. The primary holds the admin API and the state files;
 * every change reaches every worker, and the workers' counters are summed where they are read.
 */
import type { BackendWindow } from '../core/analysis/backend-metrics.ts';
import type { FaultRule } from '../core/drills/fault.ts';
import type { RouteTable } from '../core/route-table.ts';
import type { FlagCounts, FlagPlaneConfig } from './flag-plane.ts';

/** The primary to a worker. */
export type ToWorker =
  /** The state to serve before listening: the table, flags and faults in force. */
  | { t: 'init'; table: RouteTable | null; flags: FlagPlaneConfig | null; faults: FaultRule[]; now: number }
  /** Serve this table; answered `applied` with the same seq. */
  | { t: 'routes'; seq: number; table: RouteTable }
  | { t: 'flags'; config: FlagPlaneConfig }
  | { t: 'faults.set'; rules: FaultRule[]; now: number }
  | { t: 'faults.clear'; ids: string[] | undefined }
  /** Counters over a window; answered `metrics` with the same seq. */
  | { t: 'metrics'; seq: number; now: number; windowMs: number; keys: string[] }
  | { t: 'flagMetrics'; seq: number }
  /** Stop accepting, drain, exit 0. */
  | { t: 'stop' };

/** A worker to the primary. */
export type FromWorker =
  /** Its message handler is in place: the primary sends `init`. */
  | { t: 'ready' }
  | { t: 'listening'; port: number }
  | { t: 'listenError'; code: string; message: string }
  | { t: 'applied'; seq: number }
  | { t: 'metrics'; seq: number; backends: Record<string, BackendWindow> }
  | { t: 'flagMetrics'; seq: number; flags: FlagCounts }
  /** Running bad-answer totals of keys that had one since the last report (at most one report per turn). */
  | { t: 'bad'; totals: Record<string, number> }
  /** Fault hits since the last report, by fault id. */
  | { t: 'hits'; hits: Record<string, { n: number; first: number; last: number }> };
