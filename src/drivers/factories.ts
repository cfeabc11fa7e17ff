import type { Notifier } from './notifiers/types.ts';
import type { DriverContext, MetricsProvider, Router, Target } from './types.ts';

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
