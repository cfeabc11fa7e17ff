/**
 * /api/flags: list, read, stale flags, and the changes a person makes outside a spec (exposure,
 * the kill switch, archive). Each change is an event with the token's name as actor. In a
 * protected environment raising exposure and enabling are an approver's; disabling never waits.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../auth/auth-hook.ts';
import { roleAllows } from '../auth/roles.ts';
import { SluiceError } from '../errors.ts';
import type { FlagService } from '../flags/flag-service.ts';
import { FLAG_LOG } from '../flags/flag-service.ts';
import { flagAdoption } from '../flags/flag-adoption.ts';
import type { FlagTelemetry } from '../flags/flag-telemetry.ts';
import { flagView } from '../flags/flag-views.ts';
import type { VariantSeries } from '../flags/variant-series.ts';
import type { Store } from '../store/types.ts';
import { flagChanges } from '../views/flag-history.ts';

export const nameParams = z.object({ name: z.string().min(1) });
const environment = z.string().min(1, 'name the environment (--env production)');
export const percentBody = z.strictObject({
  environment,
  percent: z.number().min(0, 'percent is 0 to 100').max(100, 'percent is 0 to 100'),
  rule: z.string().min(1).optional(),
  reason: z.string().max(500).optional(),
});
export const envBody = z.strictObject({ environment, reason: z.string().max(500).optional() });

function who(req: FastifyRequest) {
  const p = principalOf(req);
  if (p === null) throw new SluiceError('UNAUTHORIZED', 'this route needs a token');
  return p;
}

export function registerFlagRoutes(
  app: FastifyInstance,
  flags: FlagService,
  store: Store,
  telemetry: FlagTelemetry,
  variants: VariantSeries,
  now: () => number = Date.now,
): void {
  const mayChangeProtected = (req: FastifyRequest, name: string, env: string, what: string) => {
    const p = who(req);
    const e = flags.get(name).flag.environments[env];
    if (e?.protected && !roleAllows(p.role, 'approver')) {
      throw new SluiceError(
        'FORBIDDEN',
        `${p.name} (${p.role}) cannot ${what} flag ${name} in ${env}: it is protected, changed by an approver or admin. Turning it off (sluice flag disable) needs no approver`,
      );
    }
    return p.name;
  };

  app.get('/api/flags', async () => ({ flags: flags.list().map((r) => flagView(r, now())) }));
  app.get('/api/flags/adoption', async () => flagAdoption(store));
  app.get('/api/flags/stale', async () => ({
    flags: flags
      .list()
      .filter((r) => !r.archived)
      .map((r) => flagView(r, now()))
      .filter((v) => v.staleness.stale),
  }));
  // Every flag's changes, for the marks on services' charts (all flags: a service spec names none).
  app.get('/api/flags/changes', async () => ({
    changes: flagChanges(await store.events({ service: FLAG_LOG, limit: 100_000 })),
  }));
  app.get('/api/flags/:name', async (req) => {
    const { name } = nameParams.parse(req.params);
    return {
      ...flagView(flags.get(name), now()),
      reported: telemetry.of(name),
      outcomes: await telemetry.outcomesOf(name),
    };
  });
  app.get('/api/flags/:name/variants', async (req) => {
    const { name } = nameParams.parse(req.params);
    flags.get(name);
    return { series: variants.of(name) };
  });
  app.get('/api/flags/:name/events', async (req) => {
    const { name } = nameParams.parse(req.params);
    flags.get(name);
    const events = await store.events({ service: FLAG_LOG, limit: 100_000 });
    return {
      events: events.filter(
        (e) => 'flag' in e && (e.flag === name || (typeof e.flag === 'object' && e.flag.name === name)),
      ),
    };
  });
  app.post('/api/flags/:name/percent', async (req) => {
    const { name } = nameParams.parse(req.params);
    const b = percentBody.parse(req.body);
    const actor = mayChangeProtected(req, name, b.environment, 'change the exposure of');
    await flags.setPercent(
      name,
      { environment: b.environment, percent: b.percent, rule: b.rule ?? null, reason: b.reason ?? null },
      actor,
    );
    return flagView(flags.get(name), now());
  });
  app.post('/api/flags/:name/resume', async (req) => {
    const { name } = nameParams.parse(req.params);
    const b = envBody.parse(req.body);
    const actor = mayChangeProtected(req, name, b.environment, 'resume');
    await flags.resume(name, b.environment, b.reason ?? null, actor);
    return flagView(flags.get(name), now());
  });
  app.post('/api/flags/:name/enable', async (req) => {
    const { name } = nameParams.parse(req.params);
    const b = envBody.parse(req.body);
    await flags.enable(name, b.environment, mayChangeProtected(req, name, b.environment, 'enable'));
    return flagView(flags.get(name), now());
  });
  app.post('/api/flags/:name/disable', async (req) => {
    const { name } = nameParams.parse(req.params);
    const b = envBody.parse(req.body);
    await flags.disable(name, b.environment, b.reason ?? null, who(req).name);
    return flagView(flags.get(name), now());
  });
  app.post('/api/flags/:name/archive', async (req) => {
    const { name } = nameParams.parse(req.params);
    await flags.archive(name, who(req).name);
    return flagView(flags.get(name), now());
  });
}
