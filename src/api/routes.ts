import { dirname } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { principalOf } from '../auth/auth-hook.ts';
import { type ApplyEntry, type Applicant, type Engine, parseSpecText } from '../engine/index.ts';
import { SluiceError } from '../errors.ts';
import { driverSchemas } from '../drivers/registry.ts';
import { evidenceWarningsOf, jsonSchema } from '../spec/index.ts';
import type { Store } from '../store/types.ts';
import { registerDashboardRoutes } from './dashboard-routes.ts';
import { registerGraphRoutes } from './graph-routes.ts';
import { endStreamsOnClose, streamEvents } from './event-stream.ts';
import { openApi } from './openapi.ts';
import { specTextOf } from './spec-body.ts';
import { applyBody, commandBody, commandParams, eventsQuery, lintBody, serviceParams, signalBody } from './requests.ts';

/** Who did it: the name of the request's token (docs/access.md); X-Sluice-Actor is not trusted. */
export function actorOf(req: FastifyRequest): string {
  return principalOf(req)?.name ?? `api@${req.ip}`;
}

/** Who asks for a change: the request's token (every changing route needs one). */
function applicant(req: FastifyRequest): Applicant {
  const p = principalOf(req);
  if (p === null) throw new SluiceError('UNAUTHORIZED', 'this route needs a token');
  return { name: p.name, role: p.role };
}

/** Every route as "METHOD /path", collected as they are registered (GET /api lists them). */
export function collectRoutes(app: FastifyInstance): string[] {
  const routes: string[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat())
      if (method !== 'HEAD' && method !== 'OPTIONS') routes.push(`${method} ${r.url}`);
  });
  return routes;
}

export function registerRoutes(
  app: FastifyInstance,
  engine: Engine,
  entry: ApplyEntry,
  store: Store,
  routes: readonly string[],
): void {
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/api', async () => ({ name: 'sluice', routes, openapi: '/api/openapi.json', access: '/api/access' }));
  app.get('/api/schema', async () => jsonSchema(driverSchemas()));
  const openapi = openApi();
  app.get('/api/openapi.json', async () => openapi);

  app.post('/api/lint', async (req) => {
    const b = lintBody.parse(req.body);
    const text = await parseSpecText(b.spec, b.file);
    if (text.policy?.ok === false) throw new SluiceError('SPEC_INVALID', text.policy.message);
    if (text.policy?.ok)
      return {
        ok: true,
        services: [],
        policy: {
          name: text.policy.policy.name,
          windows: text.policy.policy.windows.length,
          freezes: text.policy.policy.freezes.length,
        },
      };
    return {
      ok: true,
      services: text.services.map((s) => ({ name: s.metadata.name, version: s.spec.version })),
      warnings: text.services.flatMap((s) => evidenceWarningsOf(s)),
    };
  });

  app.post('/api/apply', async (req, reply) => {
    const b = applyBody.parse(req.body);
    const baseDir = b.baseDir ?? (b.file.startsWith('/') ? dirname(b.file) : process.cwd());
    // Read once, off the control loop (the parse worker), then dispatched in one place.
    const text = await specTextOf(req, b);
    const results = await entry.apply(text.documents, { file: b.file, baseDir }, applicant(req));
    // 202: accepted, but a release waits for its dependencies (docs/trains.md).
    if (results.some((r) => r.heldBy !== undefined)) void reply.code(202);
    return { results };
  });

  app.get('/api/services', async () => ({ services: await engine.listAll() }));
  app.get('/api/services/:name', async (req) => engine.status(serviceParams.parse(req.params).name));
  app.delete('/api/services/:name', async (req) => {
    const { name } = serviceParams.parse(req.params);
    await engine.delete(name, actorOf(req));
    return { deleted: name };
  });
  app.get('/api/services/:name/history', async (req) => ({
    releases: await engine.history(serviceParams.parse(req.params).name),
  }));
  app.get('/api/services/:name/revisions', async (req) => {
    const revisions = await engine.revisions(serviceParams.parse(req.params).name);
    return {
      revisions: revisions.map(({ spec: _spec, ...r }) => ({ ...r, createdAt: new Date(r.createdAt).toISOString() })),
    };
  });
  app.get('/api/services/:name/events', async (req) => {
    const { name } = serviceParams.parse(req.params);
    const q = eventsQuery.parse(req.query);
    await engine.status(name);
    return {
      events: await store.events({
        service: name,
        ...(q.after !== undefined && { afterSeq: q.after }),
        limit: q.limit ?? 1000,
      }),
    };
  });
  app.post('/api/services/:name/signals', async (req) => {
    const { name } = serviceParams.parse(req.params);
    return engine.signal(name, signalBody.parse(req.body), actorOf(req));
  });
  app.post('/api/services/:name/:command', async (req) => {
    const { name, command } = commandParams.parse(req.params);
    const args = commandBody.parse(req.body);
    return entry.command(name, command, args, applicant(req));
  });

  endStreamsOnClose(app);
  app.get('/api/events', async (req, reply) => streamEvents(req, reply, engine, store, eventsQuery.parse(req.query)));
  registerDashboardRoutes(app, engine, store);
  registerGraphRoutes(app, engine);
}
