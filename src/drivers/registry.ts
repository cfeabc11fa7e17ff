/**
 * The one place that maps driver names to driver folders. Adding a driver is one folder and one
 * line here; nothing else in the tree names a driver.
 */
import type { DriverSchemas } from '../spec/index.ts';
import type { DriverContext, DriverFactory } from './types.ts';
import type { MetricsProvider } from './metrics/types.ts';
import type { Router } from './routers/types.ts';
import type { Target, TargetFactory } from './targets/types.ts';
import type { DriverFactories } from './factories.ts';
import type { Notifier, NotifierFactory } from './notifiers/types.ts';
import { webhookNotifier } from './notifiers/webhook/index.ts';
import { accessLogMetrics } from './metrics/access-log/index.ts';
import { builtinMetrics } from './metrics/builtin/index.ts';
import { prometheusMetrics } from './metrics/prometheus/index.ts';
import { webMetrics } from './metrics/web/index.ts';
import { builtinRouter } from './routers/builtin/index.ts';
import { FleetRouter, hostDir } from './routers/fleet.ts';
import { haproxyRouter } from './routers/haproxy/index.ts';
import { nginxRouter } from './routers/nginx/index.ts';
import { commandTarget } from './targets/command/index.ts';
import { processTarget } from './targets/process/index.ts';
import { staticTarget } from './targets/static/index.ts';

export const targets: Record<string, TargetFactory> = {
  process: processTarget,
  static: staticTarget,
  command: commandTarget,
};
export const routers: Record<string, DriverFactory<Router>> = {
  builtin: builtinRouter,
  haproxy: haproxyRouter,
  nginx: nginxRouter,
};
export const metricsProviders: Record<string, DriverFactory<MetricsProvider>> = {
  builtin: builtinMetrics,
  prometheus: prometheusMetrics,
  web: webMetrics,
  'access-log': accessLogMetrics,
};
export const notifiers: Record<string, NotifierFactory> = {
  webhook: webhookNotifier,
};

/** The config schemas, for the spec parser and the JSON Schema export. */
export function driverSchemas(): DriverSchemas {
  const pick = <T extends { config: DriverSchemas['targets'][string] }>(m: Record<string, T>) =>
    Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.config]));
  const metricsRouters = Object.fromEntries(
    Object.entries(metricsProviders).flatMap(([name, f]) =>
      f.measuresRouter === undefined ? [] : [[name, f.measuresRouter]],
    ),
  );
  const metricsRouterSettings = Object.fromEntries(
    Object.entries(metricsProviders).flatMap(([name, f]) =>
      f.routerSetting === undefined ? [] : [[name, f.routerSetting]],
    ),
  );
  return {
    targets: pick(targets),
    routers: pick(routers),
    metrics: pick(metricsProviders),
    notifiers: pick(notifiers),
    metricsRouters,
    metricsRouterSettings,
  };
}

function lookup<T>(kind: string, table: Record<string, T>, name: string): T {
  const found = table[name];
  if (found === undefined) throw new Error(`unknown ${kind} driver "${name}"; valid: ${Object.keys(table).join(', ')}`);
  return found;
}

export function createTarget(name: string, ctx: DriverContext): Target {
  return lookup('target', targets, name).create(ctx);
}

export function targetConfigSchema(name: string) {
  return lookup('target', targets, name).config;
}

/*
 * Router, metrics and notifier configs come from a parsed spec: the driver's schema already
 * validated and normalised them (durations in ms …), so they are not parsed a second time.
 */

export function createRouter(config: { driver: string; fleet?: unknown }, ctx: DriverContext): Router {
  const factory = lookup('router', routers, config.driver);
  // `router:` as a list: one router per host, driven as one (see routers/fleet.ts).
  if (Array.isArray(config.fleet)) {
    const members = (config.fleet as Array<{ driver: string } & Record<string, unknown>>).map((c) => {
      const host = hostOf(c);
      const serviceDir = hostDir(ctx.serviceDir, host);
      return { host, serviceDir, router: factory.create(c, { ...ctx, serviceDir }) };
    });
    return new FleetRouter(members, ctx);
  }
  return factory.create(config, ctx);
}

/** How one host of a router list is named: its admin socket, its listen address, or its whole config. */
export function hostOf(config: Record<string, unknown>): string {
  return typeof config.adminSocket === 'string'
    ? config.adminSocket
    : typeof config.listen === 'string'
      ? config.listen
      : JSON.stringify(config);
}

export function createMetricsProvider(config: { provider: string }, ctx: DriverContext): MetricsProvider {
  return lookup('metrics', metricsProviders, config.provider).create(config, ctx);
}

/** One `spec.notifications[]` entry; throws on an unknown driver or a config its driver refuses. */
export function createNotifier(config: { driver: string }, ctx: DriverContext): Notifier {
  return lookup('notifier', notifiers, config.driver).create(config, ctx);
}

/** Every registered driver, as the engine is given them (the composition root passes this; tests may pass others). */
export const registeredDrivers: DriverFactories = {
  target: createTarget,
  router: createRouter,
  metrics: createMetricsProvider,
  notifier: createNotifier,
};
