import type { Notifier } from './notifiers/types.ts';
import type { DriverContext } from './types.ts';
import type { MetricsProvider } from './metrics/types.ts';
import type { Router } from './routers/types.ts';
import type { Target } from './targets/types.ts';

/**
 * How the engine gets a driver: by the name (or validated config) in a spec. The composition root
 * passes the registry's (`registeredDrivers`); the engine never picks drivers itself.
 */
export interface DriverFactories {
  target(name: string, ctx: DriverContext): Target;
  router(config: { driver: string }, ctx: DriverContext): Router;
  metrics(config: { provider: string }, ctx: DriverContext): MetricsProvider;
  /** Throws on an unknown driver or a config its driver refuses. */
  notifier(config: { driver: string }, ctx: DriverContext): Notifier;
}
