import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { rememberSecret } from '../drivers/secrets.ts';
import { SluiceError } from '../errors.ts';
import type { RecordServerEvents } from '../engine/server-log.ts';
import { principalOf } from './auth-hook.ts';
import { SDK_ROLE, TOKEN_ROLES } from './roles.ts';
import { parseSpan } from '../core/units.ts';
import { isLive, type TokenRecord, type TokenStore } from './token-store.ts';

/** The longest token lifetime: 10 years (past it, leave ttl out: the token lives until revoked). */
export const MAX_TTL_MS = 3650 * 86_400_000;

export const createTokenBody = z
  .strictObject({
    role: z.enum(TOKEN_ROLES, { error: () => `role must be one of ${TOKEN_ROLES.join(', ')}` }),
    /** The environment whose flags an sdk token reads (sdk tokens only). */
    environment: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'an environment name is lowercase letters, digits, ".", "_" or "-"')
      .optional(),
    /** The actor of everything done with the token; default: <role>-<id>. */
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,62}$/, 'a token name is 1-63 letters, digits, ".", "_", "@" or "-"')
      .optional(),
    /** Lifetime, e.g. "30d", "12h"; none: until revoked. */
    ttl: z
      .string()
      .refine((t) => (parseSpan(t) ?? 0) > 0, 'ttl must be a span such as 30d, 12h or 90m')
      .refine((t) => (parseSpan(t) ?? 0) <= MAX_TTL_MS, {
        error: (iss) =>
          `ttl "${String(iss.input)}" is longer than the longest lifetime, 3650d (10 years); leave ttl out for a token that lives until revoked`,
      })
      .optional(),
  })
  .refine((b) => (b.role === SDK_ROLE) === (b.environment !== undefined), {
    path: ['environment'],
    error: (iss) =>
      (iss.input as { role?: string }).role === SDK_ROLE
        ? "an sdk token reads one environment's flags: give environment (sluice token create --role sdk --env production)"
        : 'environment is for sdk tokens only',
  });

/** A token as the API shows it: never its hash. */
export function tokenView(t: TokenRecord, now: number) {
  const status = t.revokedAt !== null ? 'revoked' : isLive(t, now) ? 'live' : 'expired';
  // Clamped to the last time a Date can show: a stored record never makes the list fail.
  const iso = (ms: number | null) => (ms === null ? null : new Date(Math.min(ms, 8.64e15)).toISOString());
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    ...(t.environment !== null && { environment: t.environment }),
    status,
    createdAt: iso(t.createdAt),
    createdBy: t.createdBy,
    expiresAt: iso(t.expiresAt),
    revokedAt: iso(t.revokedAt),
  };
}

const actor = (req: FastifyRequest) => principalOf(req)?.name ?? 'unknown';

/** /api/tokens (admin) and /api/whoami (any token). */
export function registerTokenRoutes(
  app: FastifyInstance,
  tokens: TokenStore,
  record: RecordServerEvents,
  now: () => number = Date.now,
): void {
  app.get('/api/whoami', async (req) => {
    const p = principalOf(req);
    if (p === null) throw new SluiceError('UNAUTHORIZED', 'no token was presented');
    return {
      name: p.name,
      role: p.role,
      tokenId: p.tokenId,
      expiresAt: p.expiresAt === null ? null : new Date(Math.min(p.expiresAt, 8.64e15)).toISOString(),
    };
  });
  app.get('/api/tokens', async () => ({ tokens: tokens.list().map((t) => tokenView(t, now())) }));
  app.post('/api/tokens', async (req) => {
    const b = createTokenBody.parse(req.body);
    const at = now();
    const { token, record: created } = tokens.create({
      name: b.name,
      role: b.role,
      environment: b.environment ?? null,
      createdBy: actor(req),
      now: at,
      ttlMs: b.ttl === undefined ? null : parseSpan(b.ttl),
    });
    rememberSecret(token); // scrubbed from captured output should it ever show up there
    await tokens.persisted();
    await record(
      [
        {
          type: 'token.created',
          tokenId: created.id,
          name: created.name,
          role: created.role,
          expiresAt: created.expiresAt,
          ...(created.environment !== null && { environment: created.environment }),
        },
      ],
      actor(req),
    );
    return { ...tokenView(created, at), token };
  });
  app.delete('/api/tokens/:id', async (req) => {
    const { id } = z.object({ id: z.string().min(1) }).parse(req.params);
    const revoked = tokens.revoke(id, now());
    await tokens.persisted();
    await record([{ type: 'token.revoked', tokenId: revoked.id, name: revoked.name }], actor(req));
    return tokenView(revoked, now());
  });
}
