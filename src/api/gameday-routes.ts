/**
 * Game days over HTTP (docs/drills.md): run a drill, the safety lever, the records, sign-off.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../auth/auth-hook.ts';
import type { GameDay } from '../core/drills/gameday.ts';
import { drillMarkdown } from '../core/drills/markdown.ts';
import type { Drills, Who } from '../drills/drills.ts';
import { SluiceError } from '../errors.ts';
import { drillRunRow, type GameDaysView } from '../views/gamedays.ts';
import { parseGameDay, SpecError } from '../spec/index.ts';

export const runBody = z.strictObject({
  /** The YAML text of one GameDay document. */
  spec: z
    .string()
    .min(1, 'spec is empty: send the YAML text of a GameDay')
    .max(256 * 1024, 'a GameDay is at most 256 KiB'),
  file: z.string().min(1).default('<api>'),
  /** Answer once the drill has finished, with its record. */
  wait: z.boolean().default(false),
});

export const stopBody = z.strictObject({
  all: z.literal(true, { error: () => 'the safety lever stops every drill: send { "all": true }' }),
});

const drillParams = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a drill name is lowercase letters, digits and dashes'),
});
const showQuery = z.object({
  run: z.coerce.number().int().positive().optional(),
  format: z.enum(['json', 'md'], { error: () => 'format is json or md' }).default('json'),
});

export const rehearseBody = z.strictObject({
  service: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'service is the service with spec.environments, e.g. shop'),
  /** The environment whose gate asks for the rehearsal (it runs in the one before). */
  to: z.string().regex(/^[a-z][a-z0-9]{0,19}$/, 'to is the environment that asks for the rehearsal, e.g. production'),
  version: z.string().min(1, 'version: the version whose rollback is rehearsed'),
});

export const signOffBody = z.strictObject({
  run: z.number().int().positive(),
  comment: z.string().trim().min(1, 'comment: say whether the drill met its objectives').max(2000),
  actionItems: z
    .array(z.strictObject({ text: z.string().min(1).max(500), owner: z.string().min(1).max(100) }))
    .max(50)
    .default([]),
});

export const scheduleBody = runBody.omit({ wait: true });

function parsed(spec: string, file: string): GameDay {
  try {
    return parseGameDay(spec, file);
  } catch (err) {
    if (err instanceof SpecError) throw new SluiceError('SPEC_INVALID', err.message, { issues: err.issues });
    throw err;
  }
}

function who(req: FastifyRequest): Who {
  const p = principalOf(req);
  if (p === null) throw new SluiceError('UNAUTHORIZED', 'this route needs a token');
  return { name: p.name, role: p.role };
}

export function registerGameDayRoutes(app: FastifyInstance, drills: Drills): void {
  app.addHook('onClose', async () => drills.close());

  app.post('/api/gamedays/run', async (req, reply) => {
    const b = runBody.parse(req.body);
    const r = await drills.start(parsed(b.spec, b.file), who(req), b.wait);
    return reply.status(b.wait ? 200 : 202).send(r);
  });
  app.post('/api/gamedays/schedules', async (req, reply) => {
    const b = scheduleBody.parse(req.body);
    const r = await drills.schedule(parsed(b.spec, b.file), who(req));
    return reply.status(201).send(r);
  });
  app.delete('/api/gamedays/schedules/:name', async (req, reply) => {
    const { name } = drillParams.parse(req.params);
    await drills.unschedule(name, who(req));
    return reply.status(204).send();
  });
  app.post('/api/gamedays/stop', async (req) => {
    stopBody.parse(req.body);
    return drills.stopAll(who(req));
  });
  app.get('/api/gamedays', async (): Promise<GameDaysView> => ({
    runs: (await drills.list()).map(drillRunRow),
    schedules: drills.schedules(),
  }));
  app.get('/api/gamedays/:name', async (req, reply) => {
    const { name } = drillParams.parse(req.params);
    const q = showQuery.parse(req.query);
    const record = await drills.show(name, q.run);
    if (q.format === 'md') return reply.type('text/markdown; charset=utf-8').send(drillMarkdown(record));
    return record;
  });
  app.post('/api/rehearsals', async (req) => {
    const b = rehearseBody.parse(req.body);
    return drills.rehearse(b.service, b.to, b.version, who(req));
  });
  app.get('/api/rehearsals', async () => drills.rehearsals());
  app.post('/api/gamedays/:name/signoff', async (req) => {
    const { name } = drillParams.parse(req.params);
    const b = signOffBody.parse(req.body);
    return drills.signOff(name, b.run, who(req), b.comment, b.actionItems);
  });
}
