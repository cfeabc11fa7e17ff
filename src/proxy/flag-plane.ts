/**
 * Flags at the edge: for each request the proxy evaluates the flags it was given (with the
 * same code as the server, core/flags/evaluate.ts) from the stickiness header or cookie, passes
 * each variant to the application as `x-sluice-flag-<key>: <variant>`, and counts requests,
 * errors (5xx, and no answer) and latency per flag and variant, so the controller can judge a
 * flag's variants against each other as it judges a canary against its baseline.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { compileEnvironment, type EnvironmentFlagSet } from '../core/flags/environment-set.ts';
import { evaluate, type CompiledFlag } from '../core/flags/evaluate.ts';
import { record } from '../core/analysis/histogram.ts';
import type { HistogramCounts } from '../core/types.ts';

/** What `PUT /flags` takes: the flags to evaluate and where the user's key is. */
export interface FlagPlaneConfig {
  set: EnvironmentFlagSet;
  stickiness: { header?: string; cookie?: string };
}

export interface VariantCounts {
  requests: number;
  errors: number;
  latency: HistogramCounts;
}

/** The first value of cookie `name` in a Cookie header. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export function validateFlagConfig(
  input: unknown,
): { ok: true; config: FlagPlaneConfig } | { ok: false; message: string } {
  const c = input as Partial<FlagPlaneConfig> | null;
  if (typeof c !== 'object' || c === null) return { ok: false, message: 'the body is { set, stickiness }' };
  if (
    typeof c.set !== 'object' ||
    c.set === null ||
    !Array.isArray(c.set.flags) ||
    typeof c.set.environment !== 'string'
  )
    return { ok: false, message: "set is an environment's flag set { environment, version, flags, segments }" };
  const s = c.stickiness ?? {};
  if ((s.header === undefined) === (s.cookie === undefined))
    return {
      ok: false,
      message: 'stickiness names one header or one cookie: { header: "x-user-id" } or { cookie: "uid" }',
    };
  try {
    compileEnvironment(c.set);
  } catch (err) {
    return { ok: false, message: `the flag set does not compile: ${(err as Error).message}` };
  }
  return {
    ok: true,
    config: {
      set: c.set,
      stickiness: {
        ...(s.header !== undefined && { header: s.header.toLowerCase() }),
        ...(s.cookie !== undefined && { cookie: s.cookie }),
      },
    },
  };
}

/** flag → variant → counts. */
export type FlagCounts = Record<string, Record<string, VariantCounts>>;

export class FlagPlane {
  #config: FlagPlaneConfig | null = null;
  #flags: CompiledFlag[] = [];
  /** flag → variant → counts since the proxy started. */
  readonly #counts = new Map<string, Map<string, VariantCounts>>();

  apply(config: FlagPlaneConfig): void {
    this.#config = config;
    this.#flags = [...compileEnvironment(config.set).values()];
  }

  config(): FlagPlaneConfig | null {
    return this.#config;
  }

  /**
   * Evaluate the flags for this request, add their headers to `headers` (rawHeaders form) and
   * count the outcome when the response ends. Nothing when no flags are set.
   */
  assign(req: IncomingMessage, res: ServerResponse, headers: string[], startedAt: number): void {
    const c = this.#config;
    if (c === null || this.#flags.length === 0) return;
    const key =
      c.stickiness.header !== undefined
        ? req.headers[c.stickiness.header]
        : cookieValue(req.headers.cookie, c.stickiness.cookie!);
    const targetingKey = Array.isArray(key) ? key[0] : key;
    const ctx = targetingKey === undefined ? {} : { targetingKey };
    const now = Date.now();
    const served: [string, string][] = [];
    for (const flag of this.#flags) {
      const r = evaluate(flag, ctx, now);
      headers.push(`x-sluice-flag-${flag.key}`, r.variant);
      served.push([flag.key, r.variant]);
    }
    res.once('close', () => {
      const error = res.statusCode >= 500 || !res.writableFinished;
      const ms = performance.now() - startedAt;
      for (const [flag, variant] of served) {
        const byVariant = this.#counts.get(flag) ?? new Map<string, VariantCounts>();
        this.#counts.set(flag, byVariant);
        const counts = byVariant.get(variant) ?? { requests: 0, errors: 0, latency: {} };
        byVariant.set(variant, counts);
        counts.requests++;
        if (error) counts.errors++;
        record(counts.latency, ms);
      }
    });
  }

  /** flag → variant → counts since the proxy started (the controller subtracts its own marks). */
  metrics(): FlagCounts {
    return Object.fromEntries([...this.#counts].map(([flag, v]) => [flag, Object.fromEntries(v)]));
  }
}
