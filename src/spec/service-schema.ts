/**
 * The schema of one Service document. Sluice owns the shape; each driver owns the schema of its
 * own config (`spec.target`, `spec.router`, `spec.metrics`), passed in by the driver registry.
 */
import { z } from 'zod';
import type { RollbackContract } from '../core/types.ts';
import { rollbackContractSchema } from './contract-schema.ts';
import { environmentsSchema, riskSchema, type EnvironmentSpec, type RiskLevel } from './environments-schema.ts';
import { interpolate, listPlaceholders, UnknownPlaceholderError } from './interpolate.ts';
import { strategySchema, type Strategy } from './strategy-schema.ts';
import { strictObject } from './strict-object.ts';
import { specErrorMap } from './spec-error-map.ts';
import { closestName, didYouMean } from './did-you-mean.ts';
import { dependsOnSchema, type DependencySpec } from './depends-on-schema.ts';
import { migrationsSchema, type MigrationsSpec } from './migrations-schema.ts';

export const API_VERSION = 'sluice.dev/v1alpha1';

/** Each driver's own config schema, by driver name. */
export interface DriverSchemas {
  targets: Record<string, z.ZodType>;
  routers: Record<string, z.ZodType>;
  metrics: Record<string, z.ZodType>;
  notifiers: Record<string, z.ZodType>;
  /** Metrics providers that measure only some routers' data planes: provider → router driver(s). */
  metricsRouters?: Record<string, string | readonly string[]>;
  /** Such providers that see a router only when one of its fields is set: provider → field (`accessLog`). */
  metricsRouterSettings?: Record<string, string>;
}

/** A validated, normalised Service document: what the rest of Sluice consumes. */
export interface ServiceSpec {
  apiVersion: 'sluice.dev/v1alpha1';
  kind: 'Service';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    version: string;
    /** The raw template, placeholders kept: interpolated per revision (see interpolate.ts). */
    target: { driver: string } & Record<string, unknown>;
    router: { driver: string } & Record<string, unknown>;
    metrics: { provider: string } & Record<string, unknown>;
    /** Where release events are delivered (webhook, Slack format …); empty: nowhere. */
    notifications: Array<{ driver: string } & Record<string, unknown>>;
    strategy: Strategy;
    rollbackContract: RollbackContract;
    /** The environments a version goes through, in order (docs/governance.md). */
    environments?: EnvironmentSpec[];
    risk?: RiskLevel;
    /** Token names of the service's owners: only they approve its releases. */
    owners?: string[];
    /** The services this one needs running, each within a semver range (docs/trains.md). */
    dependsOn?: DependencySpec[];
    /** Schema changes released with the version: expand before the canary, contract after (docs/trains.md). */
    migrations?: MigrationsSpec;
    /** The feature flags this version ships behind (docs/flags.md). */
    flags?: string[];
  };
}

/** Placeholders a target template may use, with the values they take per revision. */
function templateVars(version: unknown, service: unknown): Record<string, string> {
  return { version: String(version ?? ''), service: String(service ?? '') };
}

export { specErrorMap } from './spec-error-map.ts';

function driverName(kind: string, schemas: Record<string, z.ZodType>) {
  const names = Object.keys(schemas);
  const valid = names.join(', ') || '(none registered)';
  return z.string().refine((name) => Object.hasOwn(schemas, name), {
    error: (iss) => {
      const name = String(iss.input);
      const likely = closestName(name, names);
      const rest =
        likely === undefined
          ? '; the other fields here are checked once the driver is known'
          : `; the other fields here were checked as ${likely}`;
      return `unknown ${kind} ${JSON.stringify(iss.input)}${didYouMean(name, names)}; valid: ${valid}${rest}`;
    },
  });
}

/**
 * The driver whose schema checks a config: the one named, or, for a misspelt name (`proces`), the
 * one most likely meant, so a typo in the name does not hide the config's other problems.
 */
function driverFor(name: unknown, schemas: Record<string, z.ZodType>): { name: string; guessed: boolean } | undefined {
  if (typeof name !== 'string') return undefined;
  if (Object.hasOwn(schemas, name)) return { name, guessed: false };
  const likely = closestName(name, Object.keys(schemas));
  return likely === undefined ? undefined : { name: likely, guessed: true };
}

/** Checks `config` with its driver's schema; issues are reported under `path`. */
function checkDriverConfig(
  key: string,
  config: Record<string, unknown>,
  schemas: Record<string, z.ZodType>,
  path: PropertyKey[],
  ctx: z.RefinementCtx,
) {
  const driver = driverFor(config[key], schemas);
  if (driver === undefined) return undefined;
  const result = schemas[driver.name]!.safeParse({ ...config, [key]: driver.name }, { error: specErrorMap });
  for (const issue of result.error?.issues ?? []) {
    const message = driver.guessed ? `${issue.message} (checked as ${key}: ${driver.name})` : issue.message;
    ctx.addIssue({ ...issue, message, path: [...path, ...issue.path] });
  }
  return result;
}

/** A router or metrics config: checked by the named driver's schema, whose output is kept. */
function driverConfig<K extends 'driver' | 'provider'>(key: K, kind: string, schemas: Record<string, z.ZodType>) {
  const shape = { [key]: driverName(kind, schemas) } as { [P in K]: z.ZodString };
  return (
    z
      .looseObject(shape)
      // A misspelt driver name stops the transform below; its config is still checked here.
      .superRefine(
        (raw, ctx) => {
          const given = (raw as Record<string, unknown> | null)?.[key];
          if (typeof given === 'string' && !Object.hasOwn(schemas, given))
            checkDriverConfig(key, raw, schemas, [], ctx);
        },
        { when: () => true },
      )
      .transform((raw, ctx) => {
        const result = checkDriverConfig(key, raw, schemas, [], ctx);
        if (result?.success) return result.data as { [P in K]: string } & Record<string, unknown>;
        return z.NEVER;
      })
  );
}

/** How a host of a router list is told apart (as drivers/registry.ts names it): admin socket, else listen address. */
const hostKey = (c: Record<string, unknown>) =>
  typeof c.adminSocket === 'string' ? c.adminSocket : typeof c.listen === 'string' ? c.listen : JSON.stringify(c);

/**
 * `router`: one router config, or a list of hosts of one driver (one release, many hosts). A list
 * becomes `{ driver, fleet: [configs] }`; mixed drivers and a host listed twice are refused.
 */
function routerConfig(schemas: Record<string, z.ZodType>) {
  const one = driverConfig('driver', 'router driver', schemas);
  return z.unknown().transform((raw, ctx) => {
    if (!Array.isArray(raw)) {
      const r = one.safeParse(raw, { error: specErrorMap });
      for (const issue of r.error?.issues ?? []) ctx.addIssue({ ...issue } as Parameters<typeof ctx.addIssue>[0]);
      return r.success ? r.data : z.NEVER;
    }
    if (raw.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message:
          'a router list needs at least one host, e.g. [ { driver: haproxy, adminSocket: 10.0.0.1:9999, backend: app } ]',
      });
      return z.NEVER;
    }
    const configs: Array<{ driver: string } & Record<string, unknown>> = [];
    raw.forEach((item, i) => {
      const r = one.safeParse(item, { error: specErrorMap });
      for (const issue of r.error?.issues ?? [])
        ctx.addIssue({ ...issue, path: [i, ...issue.path] } as Parameters<typeof ctx.addIssue>[0]);
      if (r.success) configs.push(r.data);
    });
    if (configs.length !== raw.length) return z.NEVER;
    const drivers = [...new Set(configs.map((c) => c.driver))];
    if (drivers.length > 1) {
      ctx.addIssue({
        code: 'custom',
        message: `the hosts of one router list use one driver; this list mixes ${drivers.join(', ')} (one release weighs one kind of router)`,
      });
      return z.NEVER;
    }
    const seen = new Map<string, number>();
    configs.forEach((c, i) => {
      const key = hostKey(c);
      const first = seen.get(key);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `host ${key} is listed twice (items ${first} and ${i}); list each host once`,
        });
      else seen.set(key, i);
    });
    if (seen.size !== configs.length) return z.NEVER;
    return configs.length === 1 ? configs[0]! : { driver: drivers[0]!, fleet: configs };
  });
}

/**
 * The target is kept raw because it is a template; it is validated, interpolated, by its
 * driver's schema in `checkTarget`, which needs the document's version and name.
 */
function targetTemplate(schemas: Record<string, z.ZodType>) {
  return z.looseObject({ driver: driverName('target driver', schemas) });
}

function checkTarget(schemas: Record<string, z.ZodType>) {
  return (doc: unknown, ctx: z.RefinementCtx) => {
    const { metadata, spec } = (doc ?? {}) as {
      metadata?: { name?: unknown };
      spec?: { version?: unknown; target?: unknown };
    };
    const target = spec?.target as { driver?: unknown } | undefined;
    if (driverFor(target?.driver, schemas) === undefined) return;
    const vars = templateVars(spec?.version, metadata?.name);
    let config: unknown;
    try {
      config = interpolate(target, vars);
    } catch (error) {
      if (!(error instanceof UnknownPlaceholderError)) throw error;
      for (const { path, name } of error.placeholders) {
        const message = `unknown placeholder \${${name}}; valid placeholders: ${listPlaceholders(error.known)}`;
        ctx.addIssue({ code: 'custom', path: ['spec', 'target', ...path], message });
      }
      // Keep unknown placeholders as written so the driver schema still reports everything else.
      const kept = Object.fromEntries(error.placeholders.map(({ name }) => [name, `\${${name}}`]));
      config = interpolate(target, { ...kept, ...vars });
    }
    checkDriverConfig('driver', config as Record<string, unknown>, schemas, ['spec', 'target'], ctx);
  };
}

const metadataSchema = strictObject({
  name: z
    .string()
    .regex(
      /^[a-z][a-z0-9-]{0,62}$/,
      'must be a DNS label: a lowercase letter, then up to 62 lowercase letters, digits or -',
    )
    .describe('Service name, unique per Sluice'),
  labels: z.record(z.string(), z.string()).default({}),
});

const literal = <T extends string>(value: T) =>
  z.literal(value, {
    error: (iss) => `must be "${value}"${iss.input === undefined ? '' : `, got ${JSON.stringify(iss.input)}`}`,
  });

/** The Sluice-owned shape of a Service document, around the driver-owned parts given. */
export function documentSchema<
  T extends z.ZodType,
  R extends z.ZodType,
  M extends z.ZodType,
  N extends z.ZodType,
>(parts: { target: T; router: R; metrics: M; notifications: N }) {
  return strictObject({
    apiVersion: literal(API_VERSION),
    kind: literal('Service'),
    metadata: metadataSchema,
    spec: strictObject({
      version: z
        .string({
          error: (iss) => (iss.input === undefined ? undefined : 'must be a string: quote it, e.g. version: "2.0"'),
        })
        .min(1)
        .describe('The version to run; changing it (or target) starts a release'),
      target: parts.target,
      router: parts.router,
      metrics: parts.metrics,
      notifications: parts.notifications,
      strategy: strategySchema,
      rollbackContract: rollbackContractSchema,
      environments: environmentsSchema.optional(),
      risk: riskSchema.optional(),
      owners: z
        .array(z.string().min(1))
        .optional()
        .describe('Who owns the service (token names): only they approve its releases; notifications carry them'),
      dependsOn: dependsOnSchema
        .optional()
        .describe('Services this one needs running, each within a semver range; a release waits until they do'),
      migrations: migrationsSchema
        .optional()
        .describe(
          'Schema changes released with the version: expand before the canary gets traffic, contract after the old version is gone',
        ),
      flags: z
        .array(z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'a flag name (kind: FeatureFlag)'))
        .optional()
        .describe('The feature flags this version ships behind'),
    }),
  });
}

export function serviceSchema(drivers: DriverSchemas): z.ZodType<ServiceSpec> {
  return (
    documentSchema({
      target: targetTemplate(drivers.targets),
      router: routerConfig(drivers.routers),
      metrics: driverConfig('provider', 'metrics provider', drivers.metrics).prefault({ provider: 'builtin' }),
      notifications: z.array(driverConfig('driver', 'notifier', drivers.notifiers)).default([]),
    })
      // Runs even when other fields are invalid, so target problems are reported with the rest.
      .superRefine(checkTarget(drivers.targets), { when: () => true })
      .superRefine(checkMetricsSource(drivers))
  );
}

/**
 * A metrics provider that reads one router's data plane (builtin reads the built-in proxy) sees
 * nothing behind another router: request rules would stay Inconclusive forever, so the spec says
 * so instead of a release pausing. One that reads a router's access log needs the router to send it.
 */
const checkMetricsSource =
  (drivers: DriverSchemas) =>
  (doc: ServiceSpec, ctx: z.RefinementCtx): void => {
    const { metrics, router, rollbackContract } = doc.spec;
    const measuredBy = drivers.metricsRouters?.[metrics.provider];
    if (measuredBy === undefined || !Object.hasOwn(drivers.routers, router.driver)) return;
    const measured: readonly string[] = typeof measuredBy === 'string' ? [measuredBy] : measuredBy;
    // Runs only on a valid document, but keep it safe on a partial one.
    const requestRules = (rollbackContract?.rules ?? [])
      .filter((r) => r.metric !== 'query' && r.metric !== 'signal')
      .map((r) => r.name);
    if (requestRules.length === 0) return;
    const setting = drivers.metricsRouterSettings?.[metrics.provider];
    if (!measured.includes(router.driver)) {
      const readers = Object.entries(drivers.metricsRouters ?? {})
        .filter(([, r]) => (typeof r === 'string' ? r === router.driver : r.includes(router.driver)))
        .map(([p]) => p);
      const instead =
        readers.length > 0
          ? `Use metrics: { provider: ${readers[0]}${drivers.metricsRouterSettings?.[readers[0]!] !== undefined ? ', listen: 127.0.0.1:5514' : ''} } (request rules from ${router.driver}'s own log), or query rules`
          : 'Use query rules with a provider that sees this router (e.g. metrics: { provider: prometheus, address: … })';
      ctx.addIssue({
        code: 'custom',
        path: ['spec', 'metrics'],
        message: `the ${metrics.provider} metrics provider measures router${measured.length > 1 ? 's' : ''} ${measured.map((m) => `"${m}"`).join(', ')}, not router "${router.driver}": rules ${requestRules.join(', ')} would never get data. ${instead}`,
      });
    } else if (
      setting !== undefined &&
      (Array.isArray(router.fleet) ? (router.fleet as Array<Record<string, unknown>>) : [router]).some(
        (h) => h[setting] === undefined,
      )
    ) {
      const listen = typeof metrics.listen === 'string' ? metrics.listen : 'the address metrics.listen names';
      ctx.addIssue({
        code: 'custom',
        path: ['spec', 'router', setting],
        message: `the ${metrics.provider} metrics provider reads the router's access log, but router.${setting} is not set: rules ${requestRules.join(', ')} would never get data. Set router.${setting}: ${listen} (where the router sends one line per request)`,
      });
    }
  };
