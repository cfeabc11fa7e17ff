/**
 * The OpenFeature Remote Evaluation Protocol (OFREP 0.3, github.com/open-feature/protocol,
 * service/openapi.yaml): single evaluation `POST /ofrep/v1/evaluate/flags/{key}` and bulk
 * `POST /ofrep/v1/evaluate/flags` with ETag / If-None-Match. An sdk token names the environment
 * (`Authorization: Bearer <token>`; 401 without a live one, from the auth hook). Every answer is
 * in OFREP's shapes: a body that is not JSON is PARSE_ERROR, a context that is not an object
 * INVALID_CONTEXT, an unknown key FLAG_NOT_FOUND; nothing is a 500.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { principalOf } from '../auth/auth-hook.ts';
import { evaluate, type CompiledFlag, type Resolution } from '../core/flags/evaluate.ts';
import { EnvironmentFlags } from '../flags/environment-flags.ts';
import type { FlagService } from '../flags/flag-service.ts';

type Failure = {
  key?: string;
  errorCode: 'PARSE_ERROR' | 'INVALID_CONTEXT' | 'FLAG_NOT_FOUND' | 'TARGETING_KEY_MISSING' | 'GENERAL';
  errorDetails: string;
};

class OfrepError extends Error {
  readonly status: number;
  readonly failure: Failure;
  constructor(status: number, failure: Failure) {
    super(failure.errorDetails);
    this.status = status;
    this.failure = failure;
  }
}

/** The request's context: an object, else INVALID_CONTEXT. */
function contextOf(body: unknown, key: string | undefined): Record<string, unknown> {
  const invalid = (why: string) =>
    new OfrepError(400, { ...(key !== undefined && { key }), errorCode: 'INVALID_CONTEXT', errorDetails: why });
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid('the body is a JSON object with a "context" object: {"context": {"targetingKey": "user-1", …}}');
  const ctx = (body as Record<string, unknown>).context;
  if (ctx === undefined) return {};
  if (typeof ctx !== 'object' || ctx === null || Array.isArray(ctx))
    throw invalid(`"context" is an object of attributes; given ${Array.isArray(ctx) ? 'an array' : typeof ctx}`);
  const tk = (ctx as Record<string, unknown>).targetingKey;
  if (tk !== undefined && typeof tk !== 'string') throw invalid(`"targetingKey" is a string; given ${typeof tk}`);
  return ctx as Record<string, unknown>;
}

function success(r: Resolution) {
  return {
    key: r.key,
    value: r.value,
    reason: r.reason,
    variant: r.variant,
    metadata: r.rule === null ? {} : { rule: r.rule },
  };
}

function evaluateOne(flag: CompiledFlag, ctx: Record<string, unknown>, now: number) {
  try {
    return success(evaluate(flag, ctx, now));
  } catch (err) {
    return {
      key: flag.key,
      errorCode: 'GENERAL' as const,
      errorDetails: `evaluation failed: ${(err as Error).message}`,
    };
  }
}

function environmentOf(req: FastifyRequest): string {
  const env = principalOf(req)?.environment ?? null;
  if (env === null)
    throw new OfrepError(403, {
      errorCode: 'GENERAL',
      errorDetails: "OFREP reads one environment's flags: use an sdk token (sluice token create --role sdk --env ENV)",
    });
  return env;
}

export function registerOfrepRoutes(app: FastifyInstance, flags: FlagService, now: () => number = Date.now): void {
  const environments = new EnvironmentFlags();
  void app.register(async (scope) => {
    // Any content type is read as JSON: a provider that leaves it out still gets an OFREP answer.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 256 * 1024 }, (_req, text, done) => {
      const raw = typeof text === 'string' ? text : text.toString('utf8');
      if (raw.trim() === '') return done(null, {});
      try {
        done(null, JSON.parse(raw));
      } catch (err) {
        done(
          new OfrepError(400, {
            errorCode: 'PARSE_ERROR',
            errorDetails: `the body is not JSON: ${(err as Error).message}`,
          }),
          undefined,
        );
      }
    });
    scope.setErrorHandler((err: Error & { statusCode?: number }, req: FastifyRequest, reply: FastifyReply) => {
      const key = (req.params as { key?: string } | undefined)?.key;
      if (err instanceof OfrepError)
        return reply.status(err.status).send({ ...(key !== undefined && { key }), ...err.failure });
      // A body too large, a request cut short …: the request was unreadable, never a 500.
      req.log.warn({ err }, 'OFREP request refused');
      return reply
        .status(400)
        .send({ ...(key !== undefined && { key }), errorCode: 'PARSE_ERROR', errorDetails: err.message });
    });

    scope.post('/ofrep/v1/evaluate/flags/:key', async (req, reply) => {
      const { key } = req.params as { key: string };
      const env = environmentOf(req);
      const ctx = contextOf(req.body, key);
      const flag = environments.of(flags.set, env).compiled.get(key);
      if (flag === undefined)
        return reply
          .status(404)
          .send({ key, errorCode: 'FLAG_NOT_FOUND', errorDetails: `no flag "${key}" in environment ${env}` });
      return evaluateOne(flag, ctx, now());
    });

    scope.post('/ofrep/v1/evaluate/flags', async (req, reply) => {
      const env = environmentOf(req);
      const at = now();
      const set = flags.set;
      const etag = environments.etag(set, env, at);
      void reply.header('etag', etag);
      const match = req.headers['if-none-match'];
      if (typeof match === 'string' && match.split(',').some((m) => m.trim() === etag || m.trim() === `W/${etag}`))
        return reply.status(304).send();
      const ctx = contextOf(req.body, undefined);
      const compiled = environments.of(set, env).compiled;
      return {
        flags: [...compiled.values()].map((f) => evaluateOne(f, ctx, at)),
        metadata: { environment: env, version: set.version },
      };
    });
  });
}
