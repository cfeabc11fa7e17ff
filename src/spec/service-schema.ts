/**
 * The schema of one Service document. Sluice owns the shape; each driver owns the schema of its
 * own config (`spec.target`, `spec.router`, `spec.metrics`), passed in by the driver registry.
 */
import { z } from 'zod';
import type { RollbackContract, Step } from '../core/types.ts';
import { rollbackContractSchema } from './contract-schema.ts';
import { environmentsSchema, riskSchema, type EnvironmentSpec, type RiskLevel } from './environments-schema.ts';
import { interpolate, listPlaceholders, UnknownPlaceholderError } from './interpolate.ts';
import { strategySchema, type Strategy } from './strategy-schema.ts';
import { strictObject } from './strict-object.ts';
import { specErrorMap } from './spec-error-map.ts';
import { closestName, didYouMean } from './did-you-mean.ts';

export const API_VERSION = 'sluice.dev/v1alpha1';

/** Each driver's own config schema, by driver name. */
export interface DriverSchemas {
  targets: Record<string, z.ZodType>;
  routers: Record<string, z.ZodType>;
  metrics: Record<string, z.ZodType>;
  notifiers: Record<string, z.ZodType>;
  /** Metrics providers that measure only one router's data plane: provider → router driver. */
  metricsRouters?: Record<string, string>;
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
      const rest = likely === undefined
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
function checkDriverConfig(key: string, config: Record<string, unknown>, schemas: Record<string, z.ZodType>, path: PropertyKey[], ctx: z.RefinementCtx) {
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
  return z.looseObject(shape)
    // A misspelt driver name stops the transform below; its config is still checked here.
    .superRefine((raw, ctx) => {
      const given = (raw as Record<string, unknown> | null)?.[key];
      if (typeof given === 'string' && !Object.hasOwn(schemas, given)) checkDriverConfig(key, raw, schemas, [], ctx);
    }, { when: () => true })
    .transform((raw, ctx) => {
      const result = checkDriverConfig(key, raw, schemas, [], ctx);
      if (result?.success) return result.data as { [P in K]: string } & Record<string, unknown>;
      return z.NEVER;
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
    const { metadata, spec } = (doc ?? {}) as { metadata?: { name?: unknown }; spec?: { version?: unknown; target?: unknown } };
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
    .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a DNS label: a lowercase letter, then up to 62 lowercase letters, digits or -')
    .describe('Service name, unique per Sluice'),
  labels: z.record(z.string(), z.string()).default({}),
});

const literal = <T extends string>(value: T) =>
  z.literal(value, {
    error: (iss) => `must be "${value}"${iss.input === undefined ? '' : `, got ${JSON.stringify(iss.input)}`}`,
  });

/** The Sluice-owned shape of a Service document, around the driver-owned parts given. */
export function documentSchema<T extends z.ZodType, R extends z.ZodType, M extends z.ZodType, N extends z.ZodType>(parts: {
  target: T;
  router: R;
  metrics: M;
  notifications: N;
}) {
  return strictObject({
    apiVersion: literal(API_VERSION),
    kind: literal('Service'),
    metadata: metadataSchema,
    spec: strictObject({
      version: z
        .string({ error: (iss) => (iss.input === undefined ? undefined : 'must be a string: quote it, e.g. version: "2.0"') })
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
      owners: z.array(z.string().min(1)).optional().describe('Who owns the service (token names): only they approve its releases; notifications carry them'),
      flags: z.array(z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'a flag name (kind: FeatureFlag)')).optional().describe('The feature flags this version ships behind'),
    }),
  });
}

export function serviceSchema(drivers: DriverSchemas): z.ZodType<ServiceSpec> {
  return documentSchema({
    target: targetTemplate(drivers.targets),
    router: driverConfig('driver', 'router driver', drivers.routers),
    metrics: driverConfig('provider', 'metrics provider', drivers.metrics).prefault({ provider: 'builtin' }),
    notifications: z.array(driverConfig('driver', 'notifier', drivers.notifiers)).default([]),
  })
    // Runs even when other fields are invalid, so target problems are reported with the rest.
    .superRefine(checkTarget(drivers.targets), { when: () => true })
    .superRefine(checkMetricsSource(drivers));
}

/**
 * A metrics provider that reads one router's data plane (builtin reads the built-in proxy) sees
 * nothing behind another router: request rules would stay Inconclusive forever, so the spec says
 * so instead of a release pausing.
 */
const checkMetricsSource = (drivers: DriverSchemas) => (doc: ServiceSpec, ctx: z.RefinementCtx): void => {
  const { metrics, router, rollbackContract } = doc.spec;
  const measured = drivers.metricsRouters?.[metrics.provider];
  if (measured === undefined || router.driver === measured || !Object.hasOwn(drivers.routers, router.driver)) return;
  const requestRules = rollbackContract.rules.filter((r) => r.metric !== 'query' && r.metric !== 'signal').map((r) => r.name);
  if (requestRules.length === 0) return;
  ctx.addIssue({
    code: 'custom',
    path: ['spec', 'metrics'],
    message: `the ${metrics.provider} metrics provider measures router "${measured}", not router "${router.driver}": rules ${requestRules.join(', ')} would never get data. Use query rules with a provider that sees this router (e.g. metrics: { provider: prometheus, address: … } with HAProxy's or NGINX's exporter)`,
  });
};
