/**
 * What every driver shares: the context it is given and the factory its folder exports. Each family's
 * own contract is in its folder: targets/types.ts, routers/types.ts, metrics/types.ts,
 * notifiers/types.ts. `registry.ts` maps driver names to factories. Drivers fetch and act; they never
 * decide pass or fail (the core judges).
 */
import type { z } from 'zod';

/** What every driver instance is given: which service, and a private folder for its state. */
export interface DriverContext {
  service: string;
  /** `<data-dir>/services/<service>`; a driver writes only below `<serviceDir>/<its kind>/`. */
  serviceDir: string;
  /** Structured log lines from the driver end up in the release log. */
  log: (level: 'info' | 'warn' | 'error', message: string, detail?: Record<string, unknown>) => void;
}

/** Routers and metrics providers are configured once per service. */
export interface DriverFactory<T, C = any> {
  /** Validates `spec.router` / `spec.metrics`, `driver` / `provider` field included. */
  config: z.ZodType<C>;
  /** A metrics provider that reads routers' own data planes names those routers (request rules need one of them). */
  measuresRouter?: string | readonly string[];
  /** The router config field that must be set for this provider to see anything (e.g. `accessLog`). */
  routerSetting?: string;
  create(config: C, ctx: DriverContext): T;
}
