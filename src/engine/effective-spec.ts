/**
 * One environment's effective spec: the Service document as written, with the environment's
 * overrides merged in, built as raw YAML data so it is validated (and read in `sluice diff`)
 * exactly as a person would write it.
 */
import { createHash } from 'node:crypto';
import type { Risk } from '../core/plan/types.ts';
import { parseDuration } from '../core/units.ts';
import type { EnvironmentSpec } from '../spec/environments-schema.ts';
import type { SpecDifference } from '../views/spec-difference.ts';

type Raw = Record<string, unknown>;

/** The engine's name for a service's environment: its own controlled service. */
export const environmentService = (service: string, environment: string) => `${service}--${environment}`;

const isMap = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Maps merge key by key; anything else (lists, scalars) is replaced. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over;
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

/**
 * The document for `environment` running `version`: name `<service>--<environment>`, the
 * environment's target/router/metrics merged over the base, its strategy and contract replacing
 * the base's, and the Verify window raised for a high-risk release.
 */
export function effectiveDocument(
  base: unknown,
  env: { raw: Raw; parsed: EnvironmentSpec },
  version: string,
  risk: Risk,
): Raw {
  const doc = structuredClone(base) as Raw & { metadata: Raw; spec: Raw };
  const service = String(doc.metadata.name);
  doc.metadata = {
    ...doc.metadata,
    name: environmentService(service, env.parsed.name),
    labels: {
      ...(doc.metadata.labels as Raw | undefined),
      'sluice.dev/service': service,
      'sluice.dev/environment': env.parsed.name,
    },
  };
  const spec: Raw = { ...doc.spec, version };
  delete spec.environments;
  delete spec.risk;
  for (const key of ['target', 'router', 'metrics'] as const)
    if (env.raw[key] !== undefined) spec[key] = deepMerge(spec[key], env.raw[key]);
  for (const key of ['strategy', 'rollbackContract'] as const)
    if (env.raw[key] !== undefined) spec[key] = structuredClone(env.raw[key]);
  const slowdown = risk.level === 'high' ? (env.parsed.highRisk?.slowdown ?? 1) : 1;
  if (slowdown > 1) spec.strategy = slowedDown(spec.strategy, slowdown);
  const verifyMs = Math.max(env.parsed.verify ?? 0, risk.level === 'high' ? (env.parsed.highRisk?.verify ?? 0) : 0);
  if (verifyMs > 0) spec.strategy = { ...(spec.strategy as Raw), verify: { window: `${verifyMs}ms` } };
  return { ...doc, spec };
}

/** The strategy with every timed canary pause `factor` times longer (pauses waiting for a person stay as they are). */
function slowedDown(strategy: unknown, factor: number): unknown {
  const canary = isMap(strategy) && isMap(strategy.canary) ? strategy.canary : null;
  if (canary === null || !Array.isArray(canary.steps)) return strategy;
  const steps = canary.steps.map((step: unknown) => {
    const pause = isMap(step) && isMap(step.pause) ? step.pause : null;
    const ms = typeof pause?.duration === 'string' ? parseDuration(pause.duration) : null;
    return ms === null ? step : { ...(step as Raw), pause: { ...pause, duration: `${Math.round(ms * factor)}ms` } };
  });
  return { ...(strategy as Raw), canary: { ...canary, steps } };
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isMap(value))
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  return JSON.stringify(value ?? null);
}

/** sha256 of the effective document: approvals are bound to it, so a changed spec needs new ones. */
export const documentHash = (doc: unknown) => createHash('sha256').update(canonical(doc)).digest('hex');

function flatten(value: unknown, path: string, out: Map<string, unknown>): void {
  if (isMap(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) flatten(v, path === '' ? k : `${path}.${k}`, out);
  } else if (Array.isArray(value) && value.length > 0) {
    value.forEach((v, i) => flatten(v, `${path}[${i}]`, out));
  } else {
    out.set(path, value);
  }
}

/** Where two effective documents differ, field by field (their names and environment label excepted). */
export function diffDocuments(a: unknown, b: unknown): SpecDifference[] {
  const fa = new Map<string, unknown>();
  const fb = new Map<string, unknown>();
  flatten(a, '', fa);
  flatten(b, '', fb);
  const skip = new Set(['metadata.name', 'metadata.labels.sluice.dev/environment']);
  const paths = [...new Set([...fa.keys(), ...fb.keys()])].filter((p) => !skip.has(p)).sort();
  return paths
    .filter((p) => canonical(fa.get(p)) !== canonical(fb.get(p)))
    .map((p) => ({ path: p, a: fa.get(p) ?? null, b: fb.get(p) ?? null }));
}
