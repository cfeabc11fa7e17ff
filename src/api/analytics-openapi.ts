import { z } from 'zod';
import { documentQuery, doraQuery, importBody, weeklyQuery } from './analytics-requests.ts';

/** The OpenAPI paths of the analytics, documents and /metrics routes (docs/analytics.md, docs/documents.md). */
const ok = (description: string, type = 'application/json') => ({
  '200': {
    description,
    content: { [type]: { schema: type === 'application/json' ? { type: 'object' } : { type: 'string' } } },
  },
});
const queryParams = (s: z.ZodObject) =>
  Object.entries(z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }).properties ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    schema,
  }));
const name = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' },
};

export function analyticsPaths(): Record<string, object> {
  return {
    '/api/analytics/dora': {
      get: {
        summary: 'the four DORA keys of a window, with tiers and counts (docs/analytics.md)',
        parameters: queryParams(doraQuery),
        responses: ok('the keys'),
      },
    },
    '/api/analytics/catalogue': {
      get: {
        summary: 'the services (with their team label), teams and environments the analytics history knows',
        responses: ok('{services: [{service, team}], teams, environments}'),
      },
    },
    '/api/analytics/import': {
      post: {
        summary: 'import deployments, commits, incidents and version mappings as JSON lines (deployer)',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: z.toJSONSchema(importBody, { io: 'input' }) } },
        },
        responses: ok('counts per kind and the refused lines'),
      },
    },
    '/api/analytics/incidents': {
      post: {
        summary: "incidents from an alerting tool: Alertmanager's webhook or incident objects (deployer)",
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
        responses: ok('counts and the refused alerts'),
      },
    },
    '/api/reports/weekly': {
      get: {
        summary: 'the weekly report: Markdown and HTML with SVG charts',
        parameters: queryParams(weeklyQuery),
        responses: ok('{title, markdown, html, week, generatedFrom}'),
      },
    },
    '/api/services/{name}/documents/{kind}': {
      get: {
        summary:
          'a release document written from the log: plan, schedule, rollback, retro, runbook, comms (docs/documents.md)',
        parameters: [
          name,
          {
            name: 'kind',
            in: 'path',
            required: true,
            schema: { enum: ['plan', 'schedule', 'rollback', 'retro', 'runbook', 'comms'] },
          },
          ...queryParams(documentQuery),
        ],
        responses: ok('{kind, title, generatedFrom: {seq, hash}, sections, markdown}'),
      },
    },
    '/api/services/{name}/storyboard': {
      get: {
        summary:
          "a release's storyboard: Plan, Stage, Release, Verify and Rollback frames, each with its checklist from the log and the document it opens",
        parameters: [name, ...queryParams(documentQuery)],
        responses: ok(
          '{service, release, version, status, frames: [{frame, status, checklist, artifact}], generatedFrom}',
        ),
      },
    },
    '/metrics': {
      get: {
        summary: "Sluice's own metrics in the Prometheus text format (viewer token)",
        responses: ok('text format 0.0.4', 'text/plain'),
      },
    },
  };
}
