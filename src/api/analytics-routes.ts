import type { FastifyInstance } from 'fastify';
import type { Analytics } from '../analytics/analytics.ts';
import { incidentsFromWebhook } from '../analytics/incident-webhook.ts';
import type { ReleaseDocuments } from '../analytics/release-documents.ts';
import { weeklyReport } from '../analytics/weekly-report.ts';
import { SluiceError } from '../errors.ts';
import {
  DEFAULT_DAYS,
  documentParams,
  documentQuery,
  doraQuery,
  importBody,
  weeklyQuery,
} from './analytics-requests.ts';
import { actorOf } from './routes.ts';

/** The analytics routes (docs/analytics.md): imports and incidents need a deployer; reading the keys, a viewer. */
export function registerAnalyticsRoutes(app: FastifyInstance, analytics: Analytics): void {
  app.post('/api/analytics/import', async (req) => {
    const b = importBody.parse(req.body);
    const summary = await analytics.importText(b.text, b.source, actorOf(req));
    return { ...summary, errors: summary.errors.map((e) => ({ ...e, line: e.line + b.firstLine - 1 })) };
  });
  app.post('/api/analytics/incidents', async (req) => {
    const { records, errors } = incidentsFromWebhook(req.body);
    if (records.length === 0 && errors.length > 0)
      throw new SluiceError(
        'BAD_REQUEST',
        `no incident taken: ${errors.map((e) => `#${e.line}: ${e.message}`).join('; ')}`,
        { errors },
      );
    return analytics.importRecords(records, errors, 'webhook', actorOf(req));
  });
  /** What the history knows: the services (with their team) and environments the keys can be asked for. */
  app.get('/api/analytics/catalogue', async () => {
    await analytics.project();
    const { services, environments } = analytics.history.catalogue();
    const teams = [...new Set(services.flatMap((s) => (s.team === null ? [] : [s.team])))].sort();
    return { services, teams, environments };
  });
  app.get('/api/analytics/dora', async (req) => {
    const q = doraQuery.parse(req.query);
    const until = q.until ?? Date.now();
    return analytics.dora({
      since: q.since ?? until - DEFAULT_DAYS * 86_400_000,
      until,
      environment: q.env,
      ...(q.service !== undefined && { service: q.service }),
      ...(q.team !== undefined && { team: q.team }),
      ...(q.bucket !== undefined && { bucket: q.bucket }),
      ...(q.tiers !== undefined && { tiers: q.tiers }),
    });
  });
}

/** Release documents (docs/documents.md) and the weekly report: reads, for viewers. */
export function registerDocumentRoutes(app: FastifyInstance, documents: ReleaseDocuments, analytics: Analytics): void {
  app.get('/api/services/:name/documents/:kind', async (req) => {
    const { name, kind } = documentParams.parse(req.params);
    const { release } = documentQuery.parse(req.query);
    return documents.generate(kind, name, release);
  });
  app.get('/api/services/:name/storyboard', async (req) => {
    const { name } = documentParams.pick({ name: true }).parse(req.params);
    const { release } = documentQuery.parse(req.query);
    return documents.storyboard(name, release);
  });
  app.get('/api/reports/weekly', async (req) =>
    weeklyReport(analytics, { now: Date.now(), environment: weeklyQuery.parse(req.query).env }),
  );
}
