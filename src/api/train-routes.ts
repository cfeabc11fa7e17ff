/** Release trains (docs/trains.md): their state and timeline, and a person's abort, retry, approve and reject. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../auth/auth-hook.ts';
import { describeTrainEvent } from '../core/trains/index.ts';
import { SluiceError } from '../errors.ts';
import type { TrainRunner } from '../trains/train-runner.ts';
import { trainView, type TrainView } from '../views/train.ts';

const trainParams = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a train name is lowercase letters, digits and dashes'),
});

/** An approval of a run (spec.approvals), with an optional comment kept in the train's log. */
export const trainApproveBody = z.strictObject({
  comment: z.string().max(2000, 'comment is at most 2000 characters').optional(),
});

/** A rejection ends the run: say why, for the log and the people who asked for it. */
export const trainRejectBody = z.strictObject({
  comment: z
    .string({ error: () => 'comment: say why the run is rejected (sluice train reject NAME --comment "…")' })
    .trim()
    .min(3, 'comment: say why the run is rejected (at least 3 characters)')
    .max(2000, 'comment is at most 2000 characters'),
});

function principal(req: FastifyRequest): { name: string; role: string } {
  const p = principalOf(req);
  if (p === null) throw new SluiceError('UNAUTHORIZED', 'this route needs a token');
  return { name: p.name, role: p.role };
}

const actor = (req: FastifyRequest) => principal(req).name;

export function registerTrainRoutes(app: FastifyInstance, trains: TrainRunner): void {
  app.get('/api/trains', async () => ({
    trains: trains.list().map((t) => ({
      ...trainView(t),
      upcoming: trains.upcoming(t.spec.name).map((at) => new Date(at).toISOString()),
    })),
  }));
  app.get('/api/trains/:name', async (req): Promise<TrainView> => {
    const { name } = trainParams.parse(req.params);
    const t = trains.status(name);
    const all = await trains.timeline(name);
    const lastStart = all.findLastIndex((x) => x.type === 'train.started');
    const run = all.filter((_, i) => i >= Math.max(0, lastStart));
    return {
      ...trainView(t),
      upcoming: trains.upcoming(name).map((at) => new Date(at).toISOString()),
      timeline: run.map((e) => ({
        at: new Date(e.at).toISOString(),
        type: e.type,
        actor: e.actor,
        text: describeTrainEvent(e),
      })),
    };
  });
  app.post('/api/trains/:name/abort', async (req) =>
    trainView(await trains.abort(trainParams.parse(req.params).name, actor(req))),
  );
  app.post('/api/trains/:name/retry', async (req) =>
    trainView(await trains.retry(trainParams.parse(req.params).name, actor(req))),
  );
  app.post('/api/trains/:name/approve', async (req) => {
    const { name } = trainParams.parse(req.params);
    const b = trainApproveBody.parse(req.body ?? {});
    return trainView(await trains.approve(name, b.comment, principal(req)));
  });
  app.post('/api/trains/:name/reject', async (req) => {
    const { name } = trainParams.parse(req.params);
    const b = trainRejectBody.parse(req.body ?? {});
    return trainView(await trains.reject(name, b.comment, principal(req)));
  });
}
