import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Analytics } from '../analytics/analytics.ts';
import { incidentsFromWebhook } from '../analytics/incident-webhook.ts';
import type { ReleaseDocuments } from '../analytics/release-documents.ts';
import { weeklyReport } from '../analytics/weekly-report.ts';
import { DOCUMENT_KINDS } from '../core/documents/types.ts';
import { SluiceError } from '../engine/errors.ts';
import { actorOf } from './routes.ts';

const time = (field: string) => z.string().transform((s, ctx) => {
  const ms = /^\d{4}-\d{2}-\d{2}(T.*)?$/.test(s) ? Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s) : NaN;
  if (Number.isNaN(ms)) ctx.addIssue({ code: 'custom', message: `${field} "${s}" is not a date (2026-06-01) or an ISO time (2026-06-01T00:00:00Z)` });
  return ms;
});

/** The window when none is given: the last 30 days. */
const DEFAULT_DAYS = 30;

export const doraQuery = z.strictObject({
  /** Default: 30 days before `until`. */
  since: time('since').optional(),
  /** Default: now. */
  until: time('until').optional(),
  service: z.string().min(1).optional(),
  team: z.string().min(1).optional(),
  env: z.string().min(1).default('production'),
  bucket: z.enum(['day', 'week', 'month']).optional(),
  tiers: z.string().optional(),
});

export const importBody = z.strictObject({
  /** JSON lines (docs/analytics.md): deployments, commits, incidents, versions. */
  text: z.string(),
  /** The number of the text's first line in its file, so errors name the file's own lines (a client sends a big file in parts). */
  firstLine: z.int().positive().default(1),
  source: z.enum(['file', 'api', 'git']).default('api'),
});

/** The analytics routes (docs/analytics.md): imports and incidents need a deployer; reading the keys, a viewer. */
export function registerAnalyticsRoutes(app: FastifyInstance, analytics: Analytics): void {
  app.post('/api/analytics/import', async (req) => {
    const b = importBody.parse(req.body);
    const summary = await analytics.importText(b.text, b.source, actorOf(req));
    return { ...summary, errors: summary.errors.map((e) => ({ ...e, line: e.line + b.firstLine - 1 })) };
  });
  app.post('/api/analytics/incidents', async (req) => {
    const { records, errors } = incidentsFromWebhook(req.body);
    if (records.length === 0 && errors.length > 0) throw new SluiceError('BAD_REQUEST', `no incident taken: ${errors.map((e) => `#${e.line}: ${e.message}`).join('; ')}`, { errors });
    return analytics.importRecords(records, errors, 'webhook', actorOf(req));
  });
  app.get('/api/analytics/dora', async (req) => {
    const q = doraQuery.parse(req.query);
    const until = q.until ?? Date.now();
    return analytics.dora({
      since: q.since ?? until - DEFAULT_DAYS * 86_400_000, until, environment: q.env,
      ...(q.service !== undefined && { service: q.service }), ...(q.team !== undefined && { team: q.team }),
      ...(q.bucket !== undefined && { bucket: q.bucket }), ...(q.tiers !== undefined && { tiers: q.tiers }),
    });
  });
}

export const documentParams = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a service name is lowercase letters, digits and dashes'),
  kind: z.enum(DOCUMENT_KINDS, { error: () => `unknown document; valid: ${DOCUMENT_KINDS.join(', ')}` }),
});
export const documentQuery = z.strictObject({ release: z.coerce.number().int().positive().optional() });
export const weeklyQuery = z.strictObject({ env: z.string().min(1).default('production') });

/** Release documents (docs/documents.md) and the weekly report: reads, for viewers. */
export function registerDocumentRoutes(app: FastifyInstance, documents: ReleaseDocuments, analytics: Analytics): void {
  app.get('/api/services/:name/documents/:kind', async (req) => {
    const { name, kind } = documentParams.parse(req.params);
    const { release } = documentQuery.parse(req.query);
    return documents.generate(kind, name, release);
  });
  app.get('/api/reports/weekly', async (req) => weeklyReport(analytics, { now: Date.now(), environment: weeklyQuery.parse(req.query).env }));
}
