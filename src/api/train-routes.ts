/** Release trains (docs/trains.md): their state and timeline, and a person's abort and retry. */
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

function actor(req: FastifyRequest): string {
  const p = principalOf(req);
  if (p === null) throw new SluiceError('UNAUTHORIZED', 'this route needs a token');
  return p.name;
}

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
}
