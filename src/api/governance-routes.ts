/**
 * Environments, promotion, approvals, overrides and post-mortems over HTTP (docs/governance.md).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../auth/auth-hook.ts';
import { roleAllows, isRole } from '../auth/roles.ts';
import { GATES } from '../core/plan/types.ts';
import { windowState } from '../core/windows/window-state.ts';
import { diffDocuments, type Engine, Environments, ForbiddenError, type Principal } from '../engine/index.ts';
import { SluiceError } from '../errors.ts';
import type { Store } from '../store/types.ts';
import { readPolicy } from './calendar-routes.ts';
import { serviceParams } from './requests.ts';

const environmentName = z
  .string()
  .regex(/^[a-z][a-z0-9]{0,19}$/, 'an environment name is lowercase letters and digits, e.g. production');

export const releaseBody = z.strictObject({
  version: z.string().min(1, 'version: the version to release, e.g. "2.0.0"'),
  /** The environment to release it to. */
  to: environmentName,
});

export const approveBody = z.strictObject({
  environment: environmentName,
  comment: z.string().max(2000).optional(),
});

export const overrideBody = z.strictObject({
  gate: z.enum(GATES, { error: () => `gate is one of ${GATES.join(', ')}` }),
  reason: z
    .string()
    .trim()
    .min(10, 'reason: say why the gate may be passed (at least 10 characters); it opens the post-mortem'),
  environment: environmentName.optional(),
});

export const diffQuery = z.object({ a: environmentName, b: environmentName });
export const postmortemsQuery = z.object({ service: z.string().optional() });

function principal(req: FastifyRequest): Principal {
  const p = principalOf(req);
  if (p === null) throw new SluiceError('UNAUTHORIZED', 'this route needs a token');
  return { name: p.name, role: p.role };
}

export const allows = (has: string, needs: string) => isRole(has) && isRole(needs) && roleAllows(has, needs);

/** Four-eyes and role refusals answer 403, in the API's error shape. */
async function guarded<T>(reply: FastifyReply, fn: () => Promise<T>): Promise<T | FastifyReply> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof ForbiddenError)) throw err;
    return reply.status(403).send({ error: { code: 'FORBIDDEN', message: err.message, retryable: false } });
  }
}

/** Opens the environments (their plans read back from the log); the apply entry and these routes share it. */
export function openEnvironments(
  engine: Engine,
  store: Store,
  dataDir: string,
  log: { warn: (o: object, msg: string) => void },
  now: () => number = Date.now,
): Promise<Environments> {
  return Environments.open({
    engine,
    store,
    now,
    roleAllows: allows,
    onError: (err) => log.warn({ err }, 'a waiting release plan could not be looked at'),
    windowOf: async (services, at) => {
      const policy = await readPolicy(dataDir);
      if (policy === null) return null;
      const states = services.map((s) => windowState(policy.windows, policy.freezes, s, at));
      return states.find((s) => !s.open) ?? states[0] ?? null;
    },
  });
}

export function registerGovernanceRoutes(app: FastifyInstance, environments: Environments): void {
  const opened = Promise.resolve(environments);
  app.addHook('onClose', async () => environments.close());

  app.post('/api/services/:name/releases', async (req, reply) => {
    const { name } = serviceParams.parse(req.params);
    const b = releaseBody.parse(req.body);
    const r = await (await opened).request(name, { version: b.version, environment: b.to }, principal(req).name);
    if (r.outcome === 'refused')
      throw new SluiceError('CONFLICT', `release of ${b.version} to ${b.to} refused: ${r.plan.detail}`, r);
    return reply.status(r.outcome === 'started' ? 200 : 202).send(r);
  });
  app.get('/api/services/:name/environments', async (req) =>
    (await opened).environments(serviceParams.parse(req.params).name),
  );
  app.get('/api/services/:name/diff', async (req) => {
    const { name } = serviceParams.parse(req.params);
    const q = diffQuery.parse(req.query);
    const { a, b } = (await opened).effectivePair(name, q.a, q.b);
    return {
      service: name,
      a: { environment: q.a, version: a.spec.spec.version },
      b: { environment: q.b, version: b.spec.spec.version },
      differences: diffDocuments(a.doc, b.doc),
    };
  });
  app.post('/api/services/:name/approve', async (req, reply) => {
    const { name } = serviceParams.parse(req.params);
    const b = approveBody.parse(req.body);
    const envs = await opened;
    return guarded(reply, () => envs.approve(name, b, principal(req)));
  });
  app.post('/api/services/:name/override', async (req, reply) => {
    const { name } = serviceParams.parse(req.params);
    const b = overrideBody.parse(req.body);
    const envs = await opened;
    return guarded(reply, () => envs.override(name, b, principal(req)));
  });
  app.get('/api/postmortems', async (req) => ({
    postmortems: (await opened).postmortems(postmortemsQuery.parse(req.query).service),
  }));
}
