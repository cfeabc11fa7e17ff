/** The router contract: make a data plane serve a route table (docs/routers.md). */
import type { ActiveFault, FaultRule } from '../../core/drills/fault.ts';
import type { RouteTable } from '../../core/route-table.ts';

/** The route table is the core's; drivers name it from here. */
export type { HeaderRoute, RouteBackend, RouteTable } from '../../core/route-table.ts';

/**
 * Something a router noticed on its own about its data plane: the proxy process it supervises died,
 * was started again from its last table, or could not be started again (it keeps trying).
 */
export type RouterSignal =
  | { kind: 'died'; pid: number; detail: string; at: number }
  | { kind: 'restarted'; pid: number; downMs: number; at: number }
  | { kind: 'restartFailed'; error: string; at: number };

export interface Router {
  /** Make the data plane serve this table. Idempotent; resolves once the new table is in effect. */
  apply(table: RouteTable): Promise<void>;
  /** What the data plane serves now, or null if it has no table yet. */
  read(): Promise<RouteTable | null>;
  /** In-flight requests per backend key, for draining (null: not supported). */
  inflight(): Promise<Record<string, number> | null>;
  /**
   * Routers that run their own data plane process: supervise it from now until close/shutdown
   * (a dead one is started again from its last table) and report what happened.
   */
  onSignal?(listener: (signal: RouterSignal) => void): void;
  /** Routers whose data plane injects drills' faults (docs/drills.md); absent: this router cannot. */
  readonly faults?: FaultControl;
  /** Detach; the data plane keeps serving. */
  close(): Promise<void>;
  /** Stop the data plane itself (service deleted, tests). */
  shutdown(): Promise<void>;
  /** Routers over several hosts: how the last apply went on each (a failed apply rejects too). */
  lastApply?(): HostsApplied | null;
}

/** One apply across a fleet: when each host confirmed the table, and why the others did not. */
export interface HostsApplied {
  applied: Record<string, number>;
  unreachable: Record<string, string>;
}

/** A data plane's faults; each ends at its TTL by the data plane's own clock. */
export interface FaultControl {
  /** Add the faults (a held id is replaced); resolves once the data plane injects them. */
  set(faults: FaultRule[]): Promise<ActiveFault[]>;
  /** Remove these faults (every fault when `ids` is undefined); resolves with what they hit. */
  clear(ids?: string[]): Promise<ActiveFault[]>;
  list(): Promise<ActiveFault[]>;
  /** Data planes that inject some kinds of fault only: why this one cannot be injected, or null. */
  refusal?(rule: Pick<FaultRule, 'key' | 'effect' | 'cohort'>): string | null;
}
