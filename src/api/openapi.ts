import { z } from 'zod';
import { COMMANDS } from '../core/release/decision.ts';
import { PHASES } from '../core/types.ts';
import { ERROR_CODES } from '../errors.ts';
import { analyticsPaths } from './analytics-openapi.ts';
import { dashboardPaths } from './dashboard-routes.ts';
import { flagPaths } from './flags-openapi.ts';
import { gameDayPaths } from './gameday-openapi.ts';
import { bearerScheme, governancePaths } from './governance-openapi.ts';
import { applyBody, commandBody, lintBody, signalBody } from './requests.ts';
import { trainPaths } from './trains-openapi.ts';

/**
 * The OpenAPI 3.1 description of the API, served at GET /api/openapi.json. Request bodies come
 * from the same zod schemas the routes validate with, so the document cannot drift from them.
 */
const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });

const error = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'retryable'],
      properties: {
        code: { enum: Object.keys(ERROR_CODES) },
        message: { type: 'string', description: 'what went wrong and what would be valid' },
        retryable: { type: 'boolean' },
        detail: { description: 'for SPEC_INVALID: { issues: [{ file, line, column, path, message }] }' },
      },
    },
  },
};

const status = {
  type: 'object',
  description: 'A service: see docs/cli.md, "status -o json"',
  required: ['service', 'phase', 'stableVersion', 'canaryVersion', 'weights', 'step', 'verdicts', 'lastRollback'],
  properties: {
    service: { type: 'string' },
    phase: { enum: [...PHASES] },
    stableVersion: { type: ['string', 'null'] },
    canaryVersion: { type: ['string', 'null'] },
    weights: { type: 'object', additionalProperties: { type: 'number' }, description: 'version → percent' },
    appliedWeights: { type: 'object', additionalProperties: { type: 'number' } },
    step: { type: ['object', 'null'] },
    release: { type: ['object', 'null'] },
    verdicts: { type: 'array', items: { type: 'object' } },
    lastRollback: { type: ['object', 'null'] },
    instances: { type: 'object' },
    degraded: { type: ['string', 'null'] },
  },
};

const json = (s: object, description: string) => ({ description, content: { 'application/json': { schema: s } } });
const errors = {
  '400': json({ $ref: '#/components/schemas/Error' }, 'bad request or invalid spec'),
  '404': json({ $ref: '#/components/schemas/Error' }, 'no such service, revision or route'),
  '409': json({ $ref: '#/components/schemas/Error' }, 'not possible in the current phase'),
};
const name = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' },
};
const statusReply = { '200': json({ $ref: '#/components/schemas/Status' }, 'the service after the call'), ...errors };

export function openApi(): object {
  const commands = Object.fromEntries(
    COMMANDS.map((command) => [
      `/api/services/{name}/${command}`,
      {
        post: {
          summary: `${command} the service's release`,
          parameters: [name],
          requestBody: { content: { 'application/json': { schema: schema(commandBody) } } },
          responses: statusReply,
        },
      },
    ]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Sluice API',
      version: '0.1.0',
      description: 'Progressive, reversible releases. Reference: docs/api.md.',
    },
    paths: {
      '/healthz': {
        get: {
          summary: 'liveness (needs no token)',
          security: [],
          responses: { '200': json({ type: 'object' }, 'the server answers') },
        },
      },
      '/api': {
        get: { summary: 'the list of routes', responses: { '200': json({ type: 'object' }, 'name and routes') } },
      },
      '/api/openapi.json': {
        get: { summary: 'this document', responses: { '200': json({ type: 'object' }, 'OpenAPI 3.1') } },
      },
      '/api/schema': {
        get: {
          summary: 'JSON Schema of the spec format',
          responses: { '200': json({ type: 'object' }, 'JSON Schema 2020-12') },
        },
      },
      '/api/lint': {
        post: {
          summary: 'validate spec text',
          requestBody: { required: true, content: { 'application/json': { schema: schema(lintBody) } } },
          responses: { '200': json({ type: 'object' }, 'valid'), ...errors },
        },
      },
      '/api/apply': {
        post: {
          summary: 'apply specs: deploy, or start a release when the template changed',
          requestBody: { required: true, content: { 'application/json': { schema: schema(applyBody) } } },
          responses: {
            '200': json(
              { type: 'object', properties: { results: { type: 'array', items: { type: 'object' } } } },
              'one result per service',
            ),
            '202': json(
              { type: 'object' },
              'applied; a release waits for its dependencies (results[].heldBy names them)',
            ),
            ...errors,
          },
        },
      },
      '/api/services': {
        get: {
          summary: 'every service',
          responses: {
            '200': json(
              {
                type: 'object',
                properties: { services: { type: 'array', items: { $ref: '#/components/schemas/Status' } } },
              },
              'the services',
            ),
          },
        },
      },
      '/api/services/{name}/signals': {
        post: {
          summary: "an external signal (a complaint, a page) for the release's signal rules",
          parameters: [name],
          requestBody: { required: true, content: { 'application/json': { schema: schema(signalBody) } } },
          responses: {
            '200': json(
              {
                type: 'object',
                properties: {
                  signal: { type: 'string' },
                  counted: { type: 'boolean' },
                  release: { type: ['string', 'null'] },
                },
              },
              'recorded; counted when a release is in progress',
            ),
            ...errors,
          },
        },
      },
      '/api/services/{name}': {
        get: { summary: 'one service', parameters: [name], responses: statusReply },
        delete: {
          summary: "stop the service's instances and data plane and forget it",
          parameters: [name],
          responses: { '200': json({ type: 'object' }, 'deleted'), ...errors },
        },
      },
      '/api/services/{name}/history': {
        get: {
          summary: 'past releases with rollback logs',
          parameters: [name],
          responses: { '200': json({ type: 'object' }, 'releases, newest first'), ...errors },
        },
      },
      '/api/services/{name}/revisions': {
        get: {
          summary: 'applied templates',
          parameters: [name],
          responses: { '200': json({ type: 'object' }, 'revisions'), ...errors },
        },
      },
      '/api/services/{name}/events': {
        get: {
          summary: "the service's events",
          parameters: [
            name,
            { name: 'after', in: 'query', schema: { type: 'integer' } },
            { name: 'limit', in: 'query', schema: { type: 'integer' } },
          ],
          responses: { '200': json({ type: 'object' }, 'events in order'), ...errors },
        },
      },
      ...dashboardPaths(),
      ...governancePaths(),
      ...trainPaths(),
      ...analyticsPaths(),
      ...flagPaths(),
      ...gameDayPaths(),
      ...commands,
      '/api/events': {
        get: {
          summary: 'server-sent events: the log after `after` (or Last-Event-ID), then live',
          parameters: [
            { name: 'service', in: 'query', schema: { type: 'string' } },
            { name: 'after', in: 'query', schema: { type: 'integer' } },
          ],
          responses: {
            '200': {
              description: 'id = sequence number, event = type, data = the event as JSON',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
          },
        },
      },
    },
    // Every route but /healthz needs a token (docs/access.md).
    security: [{ bearer: [] }],
    components: { schemas: { Error: error, Status: status }, securitySchemes: bearerScheme },
  };
}
