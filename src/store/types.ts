import type { EventBody, ServiceEvent } from '../core/events.ts';
import type { ReleaseState, ServiceState } from '../core/release/state.ts';

/** One applied template of a service: what a release moves to. Immutable once stored. */
export interface StoredRevision {
  service: string;
  /** "1", "2", … : the route and metrics key. */
  key: string;
  number: number;
  version: string;
  /** The whole applied spec (normalised), kept so that undo and retry can use it again. */
  spec: unknown;
  templateHash: string;
  /** Folder relative paths in the spec resolve against (the spec file's folder). */
  baseDir: string;
  file: string | null;
  createdAt: number;
  createdBy: string;
}

/** The service as last applied (its current spec may differ from its stable revision's only outside the template). */
export interface StoredService {
  name: string;
  spec: unknown;
  baseDir: string;
  file: string | null;
  /** Revision the current template belongs to. */
  revisionKey: string;
  updatedAt: number;
}

/** An event before the store gives it its place in the log. */
export type NewEvent = EventBody & { at: number; actor: string };

export interface EventQuery {
  service?: string;
  afterSeq?: number;
  since?: number;
  limit?: number;
}

/** One event as it lies in the log, unparsed, for `audit verify` (a tampered body may not even be JSON). */
export interface ChainRow {
  seq: number;
  service: string;
  type: string;
  at: number;
  actor: string;
  /** The event body as stored (JSON text). */
  body: string;
  /** Null only in a log whose chain was never computed. */
  prevHash: string | null;
  hash: string | null;
}

/** The seq and hash of the last event, kept beside the log. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** The lease a write is made under (leases.ts in a replicated store): the holder and its epoch. */
export interface Fence {
  holder: string;
  epoch: number;
}

/** One service's lease: who owns its release, under which epoch, until when (the database's clock, epoch ms). */
export interface Lease {
  service: string;
  holder: string;
  epoch: number;
  expiresAt: number;
}

/** A write made under a fence whose epoch is no longer the service's current one: a newer owner took over. */
export class FencedWrite extends Error {
  readonly service: string;
  readonly fence: Fence;
  readonly current: Lease | null;

  constructor(service: string, fence: Fence, current: Lease | null) {
    super(
      `${fence.holder} wrote ${service}'s events under epoch ${fence.epoch}, but ${current === null ? 'no lease is held' : `the lease is at epoch ${current.epoch}, held by ${current.holder}`}: the write was refused`,
    );
    this.service = service;
    this.fence = fence;
    this.current = current;
  }
}

/** One server process's cumulative outcomes of one flag variant in one environment (SharedOutcomes). */
export interface OutcomeRow {
  environment: string;
  flag: string;
  variant: string;
  requests: number;
  errors: number;
  /** ms latency histogram (core/analysis/histogram.ts). */
  latency: Record<number, number>;
}

/**
 * The request outcomes applications report per flag variant, in a store several replicas share:
 * each process puts its own cumulative rows, and whoever judges a flag reads every process's.
 */
export interface SharedOutcomes {
  put(instance: string, rows: OutcomeRow[]): Promise<void>;
  read(flag: string): Promise<OutcomeRow[]>;
}

/**
 * The leases of a store several replicas share (PostgreSQL). Time is the database's clock, so
 * replicas' clocks need not agree; each holder also keeps its own, shorter, deadline.
 */
export interface LeaseStore {
  leases(): Promise<Lease[]>;
  /** Take the lease when it is free, lapsed, or already ours under `epoch`; a take increments the epoch. Null: another holder's is live. */
  claim(service: string, holder: string, ttlMs: number, epoch: number | null): Promise<Lease | null>;
  /** Give the lease up (its epoch stays, so the next owner's is higher). */
  release(service: string, holder: string, epoch: number): Promise<void>;
  /** Record this replica alive; false when another live process holds the same id. */
  heartbeat(replica: string, instance: string, url: string | null, ttlMs: number): Promise<boolean>;
  /** Live replicas' ids (seen within `ttlMs`). */
  replicas(ttlMs: number): Promise<string[]>;
  /** Calls `wake(service)` when another replica commits events (a wake-up only: read the log). */
  listen(wake: (service: string) => void): Promise<() => Promise<void>>;
}

/** An API token as a replicated store keeps it: its hash, never the token (auth/token-store.ts holds the rules). */
export interface StoredToken {
  id: string;
  name: string;
  role: string;
  hash: string;
  createdAt: number;
  createdBy: string;
  expiresAt: number | null;
  revokedAt: number | null;
  /** An sdk token's environment (the flags it may read); null for every other role. */
  environment: string | null;
}

/** The API tokens of a store several replicas share. */
export interface TokenTable {
  all(): Promise<StoredToken[]>;
  insert(token: StoredToken): Promise<void>;
  revoke(id: string, at: number): Promise<void>;
}

/**
 * The event log and its projections. `commit` appends events, extends their hash chain
 * (event-hash.ts) and updates the projections in one transaction, so the log and what is read
 * from it never disagree.
 */
export interface Store {
  /**
   * With a `fence` (replicated stores), the commit is refused with FencedWrite unless the fence's
   * epoch is still the service's lease epoch, checked in the same transaction. Single-replica
   * stores (SQLite, memory) hold no leases and take no fence.
   */
  commit(service: string, events: NewEvent[], state: ServiceState, fence?: Fence): Promise<ServiceEvent[]>;
  events(query: EventQuery): Promise<ServiceEvent[]>;
  /** The log with its hash chain (see event-hash.ts), in seq order: `afterSeq` and `limit` page through it. */
  chain(query: { afterSeq?: number; limit?: number }): Promise<ChainRow[]>;
  /** Null when the log is empty. */
  chainHead(): Promise<ChainHead | null>;
  /** The projected current state of every service, or of those named (for listings; the engine replays the log). */
  states(names?: readonly string[]): Promise<ServiceState[]>;
  releases(service: string, limit?: number): Promise<ReleaseState[]>;
  putRevision(revision: StoredRevision): Promise<void>;
  revision(service: string, key: string): Promise<StoredRevision | null>;
  revisions(service: string): Promise<StoredRevision[]>;
  putService(service: StoredService): Promise<void>;
  service(name: string): Promise<StoredService | null>;
  services(): Promise<StoredService[]>;
  deleteService(name: string): Promise<void>;
  close(): Promise<void>;
}
