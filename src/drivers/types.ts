/**
 * The three small contracts every driver implements. A driver folder exports a `DriverFactory`
 * (its config schema and a constructor); `registry.ts` maps driver names to factories. Drivers
 * fetch and act; they never decide pass or fail (the core judges).
 */
import type { z } from 'zod';
import type { Instance, Measurement, QueryResult, WindowStats } from '../core/types.ts';

/** What every driver instance is given: which service, and a private folder for its state. */
export interface DriverContext {
  service: string;
  /** `<data-dir>/services/<service>`; a driver writes only below `<serviceDir>/<its kind>/`. */
  serviceDir: string;
  /** Structured log lines from the driver end up in the release log. */
  log: (level: 'info' | 'warn' | 'error', message: string, detail?: Record<string, unknown>) => void;
}

/** One revision as a target sees it: its `spec.target` config with `${version}` already interpolated. */
export interface TargetRevision<C = unknown> {
  /** Revision key, unique per service ("3"). Used as the route/metrics key too. */
  key: string;
  version: string;
  config: C;
  /** The spec file's folder: relative paths in the config (a command, a cwd) resolve against it. */
  baseDir: string;
}

/** Something a target noticed on its own: an instance crashed (and whether it was restarted). */
export interface TargetSignal {
  kind: 'crashed';
  key: string;
  instanceId: string;
  exitCode: number | null;
  signal: string | null;
  restarted: boolean;
  at: number;
}

export interface Target<C = unknown> {
  /** Start the revision's instances; resolves once every instance passes readiness. Rejects on timeout. */
  start(rev: TargetRevision<C>, signal: AbortSignal): Promise<Instance[]>;
  /** After a controller restart: re-attach to instances recorded earlier. Returns the ones still alive. */
  adopt(rev: TargetRevision<C>, instances: Instance[]): Promise<Instance[]>;
  /** Stop the instances (SIGTERM after draining, then SIGKILL after a grace period). */
  stop(rev: TargetRevision<C>, instances: Instance[]): Promise<void>;
  /** Health signals, e.g. a crash (the driver restarts the instance itself when it can). */
  onSignal(listener: (signal: TargetSignal) => void): void;
  /** Detach: stop watching, leave the instances running. */
  close(): Promise<void>;
}

/** One backend of a route table: a revision, its share of traffic and its endpoints. */
export interface RouteBackend {
  key: string;
  version: string;
  /** Percent, 0..100; the backends' weights sum to 100. */
  weight: number;
  endpoints: string[];
}

/**
 * The routing state of one service. Order matters for sticky routing: hash ranges are laid out
 * in backend order, so the engine lists the canary first and a user in the first w% stays there
 * as w grows.
 */
export interface RouteTable {
  backends: RouteBackend[];
  stickiness?: { header?: string; cookie?: string };
  /**
   * Cohort routes, checked before the weights: a request whose header (or cookie) equals `value`
   * goes to backend `key` whatever its weight (canary `setHeaderRoute` steps, blue-green preview).
   */
  routes?: HeaderRoute[];
  /**
   * Replicated control planes: the lease epoch of the controller setting the table. A router that
   * can (the built-in proxy) refuses a table with a lower epoch than the one in force.
   */
  epoch?: number;
}

export interface HeaderRoute {
  key: string;
  match: { header: string; value: string } | { cookie: string; value: string };
}

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
  /** Detach; the data plane keeps serving. */
  close(): Promise<void>;
  /** Stop the data plane itself (service deleted, tests). */
  shutdown(): Promise<void>;
}

export interface MetricsProvider {
  /** Figures per revision key over the last `windowMs`. Missing data is `noData`, never zeros. */
  collect(keys: string[], windowMs: number): Promise<Record<string, Measurement>>;
  /**
   * Providers that answer queries (PromQL, an HTTP JSON endpoint): the value of one query whose
   * placeholders (`${version}`, `${service}`, `${window}`) the engine has already filled in.
   * Errors and timeouts resolve to `{ kind: 'error' }`; an empty answer is `noData`, never 0.
   */
  query?(query: string, windowMs: number): Promise<QueryResult>;
  /** How a version or service name must be escaped inside this provider's queries (PromQL string, URL). */
  escapeQueryValue?(value: string): string;
  /**
   * Providers with live counters: resolves as soon as the data plane has answered `key` with a bad
   * response (status ≥ 400, or none) that this watcher has not yet reported, so the engine judges
   * when the evidence arrives instead of at the next interval. Rejects when `signal` aborts.
   */
  watch?(key: string, signal: AbortSignal): Promise<void>;
  /** The longest one query may take, as configured (`timeout`): the engine waits that long for it. */
  readonly timeoutMs?: number;
  close(): Promise<void>;
}

/** A target's config comes with each revision (it is part of the release template). */
export interface TargetFactory<C = any> {
  /** Validates `spec.target` (after interpolation), minus nothing: `driver` is part of it. */
  config: z.ZodType<C>;
  create(ctx: DriverContext): Target<C>;
}

/** Routers and metrics providers are configured once per service. */
export interface DriverFactory<T, C = any> {
  /** Validates `spec.router` / `spec.metrics`, `driver` / `provider` field included. */
  config: z.ZodType<C>;
  /** A metrics provider that reads one router's own data plane names that router (request rules need it). */
  measuresRouter?: string;
  create(config: C, ctx: DriverContext): T;
}

export type { Instance, Measurement, QueryResult, WindowStats };
