/**
 * What the in-process provider (`sluice/openfeature`) reads with an sdk token: its environment's
 * flag set (GET /api/sdk/flags, with ETag), the same set pushed on every change as server-sent
 * events (GET /api/sdk/flags/stream), and where its hook reports evaluations and request
 * outcomes per variant (POST /api/sdk/evaluations). The set is serialised once per change per environment, however
 * many providers listen.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../auth/auth-hook.ts';
import { SluiceError } from '../errors.ts';
import { BUCKETS, total } from '../core/analysis/histogram.ts';
import { environmentFlagSet } from '../core/flags/environment-set.ts';
import type { FlagService } from '../flags/flag-service.ts';
import type { FlagTelemetry } from '../flags/flag-telemetry.ts';

export const sdkReportBody = z.strictObject({
  evaluations: z
    .array(
      z.strictObject({
        flag: z.string().min(1).max(128),
        variant: z.string().min(1).max(128),
        count: z.int().min(0),
        errors: z.int().min(0).default(0),
      }),
    )
    .max(10_000)
    .default([]),
  /** Requests the application served per flag and variant: the evidence of a contract with evidence: sdk. */
  outcomes: z
    .array(
      z
        .strictObject({
          flag: z.string().min(1).max(128),
          variant: z.string().min(1).max(128),
          requests: z.int().min(1),
          errors: z.int().min(0).default(0),
          /** ms latency histogram: bucket (core/analysis/histogram.ts bucketOf) → requests. */
          latency: z
            .record(
              z.string().regex(/^\d+$/, `a bucket of core/analysis/histogram.ts, 0 to ${BUCKETS - 1}`),
              z.int().min(1),
            )
            .default({}),
        })
        .superRefine((o, ctx) => {
          if (o.errors > o.requests)
            ctx.addIssue({ code: 'custom', path: ['errors'], message: `${o.errors} errors of ${o.requests} requests` });
          if (Object.keys(o.latency).some((k) => Number(k) >= BUCKETS))
            ctx.addIssue({ code: 'custom', path: ['latency'], message: `buckets run from 0 to ${BUCKETS - 1}` });
          if (total(o.latency) > o.requests)
            ctx.addIssue({
              code: 'custom',
              path: ['latency'],
              message: `${total(o.latency)} latencies for ${o.requests} requests`,
            });
        }),
    )
    .max(10_000)
    .default([]),
});

function environmentOf(req: FastifyRequest): string {
  const env = principalOf(req)?.environment ?? null;
  if (env === null)
    throw new SluiceError(
      'FORBIDDEN',
      "this route reads one environment's flags: use an sdk token (sluice token create --role sdk --env ENV)",
    );
  return env;
}

/** One environment's set as JSON, and its ETag, made once per change. */
class EnvironmentJson {
  readonly #cache = new Map<string, { version: number; json: string; etag: string }>();
  readonly #flags: FlagService;
  constructor(flags: FlagService) {
    this.#flags = flags;
  }

  get(environment: string) {
    const set = this.#flags.set;
    const hit = this.#cache.get(environment);
    if (hit?.version === set.version) return hit;
    const json = JSON.stringify(environmentFlagSet(set, environment));
    // The version moves with any flag's change: the ETag stays when this environment's set did not.
    const etag = hit?.json === json ? hit.etag : `"${environment}-${set.version}"`;
    const entry = { version: set.version, json, etag };
    this.#cache.set(environment, entry);
    return entry;
  }
}

export function registerSdkRoutes(app: FastifyInstance, flags: FlagService, telemetry: FlagTelemetry): void {
  const sets = new EnvironmentJson(flags);
  const streams = new Map<ServerResponse, { environment: string; etag: string }>();
  flags.onChange(() => {
    for (const [res, s] of streams) {
      const now = sets.get(s.environment);
      if (now.etag === s.etag) continue;
      s.etag = now.etag;
      res.write(`id: ${now.etag}\nevent: flags\ndata: ${now.json}\n\n`);
      if (res.writableLength > 4 * 1024 * 1024) res.destroy();
    }
  });
  app.addHook('preClose', async () => {
    for (const res of streams.keys()) {
      res.end();
      res.socket?.end();
    }
  });

  app.get('/api/sdk/flags', async (req, reply) => {
    const s = sets.get(environmentOf(req));
    void reply.header('etag', s.etag).header('cache-control', 'no-cache');
    if (req.headers['if-none-match'] === s.etag) return reply.status(304).send();
    return reply.type('application/json').send(s.json);
  });

  app.get('/api/sdk/flags/stream', async (req, reply) => {
    const environment = environmentOf(req);
    const s = sets.get(environment);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    streams.set(res, { environment, etag: s.etag });
    res.write(`id: ${s.etag}\nevent: flags\ndata: ${s.json}\n\n`);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    res.once('close', () => {
      clearInterval(heartbeat);
      streams.delete(res);
    });
  });

  app.post('/api/sdk/evaluations', async (req) => {
    const environment = environmentOf(req);
    const b = sdkReportBody.parse(req.body);
    for (const e of b.evaluations) telemetry.add(environment, e.flag, e.variant, e.count, e.errors);
    // Outcomes are evidence: only for a flag of this environment and one of its variants.
    const ignored: { flag: string; variant: string; reason: string }[] = [];
    for (const o of b.outcomes) {
      const flag = flags.set.flags[o.flag]?.flag;
      const reason =
        flag?.environments[environment] === undefined
          ? `no flag "${o.flag}" in ${environment}`
          : !(o.variant in flag.variants)
            ? `"${o.variant}" is not a variant of ${o.flag} (${Object.keys(flag.variants).join(', ')})`
            : null;
      if (reason !== null) ignored.push({ flag: o.flag, variant: o.variant, reason });
      else telemetry.addOutcomes(environment, o.flag, o.variant, o);
    }
    return { accepted: b.evaluations.length + b.outcomes.length - ignored.length, ignored };
  });
}
