import type { FastifyInstance } from 'fastify';
import { redactSecrets } from '../drivers/secrets.ts';
import { stringify } from 'yaml';
import { z } from 'zod';
import type { ServiceEvent } from '../core/events.ts';
import type { ReleaseState } from '../core/release/state.ts';
import { type Engine } from '../engine/index.ts';
import { SluiceError } from '../errors.ts';
import type { Store } from '../store/types.ts';
import { serviceParams } from './requests.ts';
import { releaseTimeline, type ReleaseTimeline, type Revision } from '../views/release-timeline.ts';
import { reduceSeries, seriesOf, type VerdictSeries } from '../views/verdict-series.ts';

/**
 * What the dashboard reads beyond status and history: a revision's whole spec (for the diff), a
 * release's steps and activity (the timeline), and each rule's verdicts as a time series (the charts),
 * all built from the event log and its projections.
 */
export const revisionParams = serviceParams.extend({
  key: z.string().regex(/^\d+$/, 'a revision key is a number, e.g. "2"'),
});
export const releaseParams = serviceParams.extend({ number: z.coerce.number().int().positive() });
export const seriesQuery = z.object({
  /** Most points per rule; longer series are reduced, keeping each bucket's extremes and verdict changes. */
  maxPoints: z.coerce.number().int().min(16).max(20_000).default(2000),
});

const PAGE = 5000;

/** The events of one release, in order: from its `release.started` to the next release's. */
async function releaseEvents(
  store: Store,
  service: string,
  r: ReleaseState,
  keep: (e: ServiceEvent) => boolean,
): Promise<{ events: ServiceEvent[]; lastSeq: number }> {
  const events: ServiceEvent[] = [];
  let afterSeq: number | undefined;
  let started = false;
  let lastSeq = 0;
  for (;;) {
    const page = await store.events({
      service,
      since: r.startedAt,
      limit: PAGE,
      ...(afterSeq !== undefined && { afterSeq }),
    });
    for (const e of page) {
      if (e.type === 'release.started') {
        if (started && e.release.id !== r.id) return { events, lastSeq };
        if (e.release.id === r.id) started = true;
      }
      lastSeq = e.seq;
      if (started && keep(e)) events.push(e);
    }
    if (page.length < PAGE) return { events, lastSeq };
    afterSeq = page.at(-1)!.seq;
  }
}

async function findRelease(engine: Engine, store: Store, service: string, number: number): Promise<ReleaseState> {
  const latest = (await engine.status(service)).release?.number ?? 0;
  // Newest first with distinct numbers: release `number` is among the newest `latest - number + 1`.
  const r =
    number > latest ? undefined : (await store.releases(service, latest - number + 1)).find((x) => x.number === number);
  if (r === undefined)
    throw new SluiceError(
      'NOT_FOUND',
      `${service} has no release ${number}; GET /api/services/${service}/history lists them`,
    );
  return r;
}

export function registerDashboardRoutes(app: FastifyInstance, engine: Engine, store: Store): void {
  app.get('/api/services/:name/revisions/:key', async (req): Promise<Revision> => {
    const { name, key } = revisionParams.parse(req.params);
    await engine.status(name);
    const rev = await store.revision(name, key);
    if (rev === null)
      throw new SluiceError(
        'NOT_FOUND',
        `${name} has no revision ${key}; GET /api/services/${name}/revisions lists them`,
      );
    const spec = redactSecrets(rev.spec);
    return { ...rev, spec, createdAt: new Date(rev.createdAt).toISOString(), yaml: stringify(spec) };
  });

  app.get('/api/services/:name/releases/:number', async (req): Promise<ReleaseTimeline> => {
    const { name, number } = releaseParams.parse(req.params);
    const r = await findRelease(engine, store, name, number);
    const { events } = await releaseEvents(store, name, r, (e) => e.type !== 'analysis.evaluated');
    return releaseTimeline(r, events);
  });

  app.get('/api/services/:name/releases/:number/verdicts', async (req): Promise<VerdictSeries> => {
    const { name, number } = releaseParams.parse(req.params);
    const { maxPoints } = seriesQuery.parse(req.query);
    const r = await findRelease(engine, store, name, number);
    const { events, lastSeq } = await releaseEvents(store, name, r, (e) => e.type === 'analysis.evaluated');
    return { release: r.id, lastSeq, rules: seriesOf(events).map((s) => reduceSeries(s, maxPoints)) };
  });
}

const json = (description: string, properties: Record<string, object> = {}) => ({
  description,
  content: { 'application/json': { schema: { type: 'object', properties } } },
});
const notFoundReply = {
  '404': {
    description: 'no such service, revision or release',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  },
};
const name = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };

/** The OpenAPI paths of these routes, merged into GET /api/openapi.json. */
export function dashboardPaths(): Record<string, object> {
  const number = { name: 'number', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
  return {
    '/api/services/{name}/revisions/{key}': {
      get: {
        summary: 'one applied revision with its whole spec (normalised) and that spec as YAML',
        parameters: [name, { name: 'key', in: 'path', required: true, schema: { type: 'string', pattern: '^\\d+$' } }],
        responses: {
          '200': json('the revision', {
            key: { type: 'string' },
            version: { type: 'string' },
            spec: { type: 'object' },
            yaml: { type: 'string' },
          }),
          ...notFoundReply,
        },
      },
    },
    '/api/services/{name}/releases/{number}': {
      get: {
        summary:
          "a release's steps (done / current / next, with start times), contract and activity (its events except analysis)",
        parameters: [name, number],
        responses: {
          '200': json('the release', {
            release: { type: 'object' },
            stepIndex: { type: 'integer' },
            steps: { type: 'array' },
            contract: { type: 'object' },
            activity: { type: 'array' },
          }),
          ...notFoundReply,
        },
      },
    },
    '/api/services/{name}/releases/{number}/verdicts': {
      get: {
        summary:
          "each rule's verdicts over the release as columns (at, canary, baseline, threshold, outcome), reduced to maxPoints",
        parameters: [
          name,
          number,
          { name: 'maxPoints', in: 'query', schema: z.toJSONSchema(seriesQuery.shape.maxPoints, { io: 'input' }) },
        ],
        responses: {
          '200': json('the series', {
            release: { type: 'string' },
            lastSeq: { type: 'integer' },
            rules: { type: 'array' },
          }),
          ...notFoundReply,
        },
      },
    },
  };
}
