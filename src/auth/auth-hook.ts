import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { roleAllows } from './roles.ts';
import { type Access, COMMAND_ROLES, requiredAccess } from './route-access.ts';
import type { Principal, TokenStore } from './token-store.ts';

const principals = new WeakMap<FastifyRequest, Principal>();

/** The token holder of an authenticated request (null on public routes). */
export function principalOf(req: FastifyRequest): Principal | null {
  return principals.get(req) ?? null;
}

function presentedToken(req: FastifyRequest, route: string): string | null {
  const header = req.headers.authorization;
  if (typeof header === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m ? m[1]! : null;
  }
  // Browsers' EventSource cannot send headers: the event stream alone takes the token in its URL.
  if (req.method === 'GET' && route === '/api/events') {
    const q = (req.query as Record<string, unknown> | undefined)?.token;
    if (typeof q === 'string' && q !== '') return q;
  }
  return null;
}

function deny(reply: FastifyReply, status: 401 | 403, message: string): FastifyReply {
  const code = status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN';
  if (status === 401) void reply.header('www-authenticate', 'Bearer realm="sluice"');
  return reply.status(status).send({ error: { code, message, retryable: false } });
}

/** One row of GET /api/access: what each registered route needs. */
export interface RouteAccess {
  method: string;
  url: string;
  access: Access;
}

/** Per-command rows for a route with a `:command` parameter: its access depends on the command. */
function accessRows(method: string, url: string): RouteAccess[] {
  if (!url.includes(':command')) return [{ method, url, access: requiredAccess(method, url, {}) }];
  return Object.keys(COMMAND_ROLES).map((command) => ({
    method,
    url: url.replace(':command', command),
    access: requiredAccess(method, url, { command }),
  }));
}

/**
 * Every request needs a live token whose role covers the route (route-access.ts), checked when
 * the request arrives, before its body is read. 401: no token, or not a live one; 403: a live
 * token whose role is too low. Call before any route is registered: the routes registered after
 * it are listed, with what they need, at GET /api/access (from Fastify's own table, so a new
 * route cannot be left out).
 */
export function registerAuth(app: FastifyInstance, tokens: TokenStore, now: () => number = Date.now): void {
  const routes: RouteAccess[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat())
      if (method !== 'HEAD' && method !== 'OPTIONS') routes.push(...accessRows(method, r.url));
  });
  app.get('/api/access', async () => ({ routes }));
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    const route = req.routeOptions.url ?? path;
    const access = requiredAccess(req.method, route, (req.params ?? {}) as Record<string, string | undefined>, path);
    if (access === 'public') return;
    const token = presentedToken(req, route);
    if (token === null) {
      return deny(
        reply,
        401,
        `${req.method} ${route} needs a token with role ${access} or above: send "Authorization: Bearer <token>" (sluice --token / SLUICE_TOKEN); the first admin token is in <data-dir>/admin.token`,
      );
    }
    const principal = tokens.authenticate(token, now());
    if (principal === null)
      return deny(
        reply,
        401,
        'the token is unknown, revoked or expired; ask an admin for a new one (sluice token create)',
      );
    if (!roleAllows(principal.role, access)) {
      return deny(
        reply,
        403,
        `token "${principal.name}" has role ${principal.role}; ${req.method} ${route} needs ${access} or above`,
      );
    }
    principals.set(req, principal);
  });
}
