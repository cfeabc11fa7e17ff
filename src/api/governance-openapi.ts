import { z } from 'zod';
import { exportQuery, verifyQuery } from '../audit/audit-routes.ts';
import { createTokenBody } from '../auth/token-routes.ts';
import { serverPolicySchema } from '../engine/index.ts';
import { calendarQuery } from './calendar-routes.ts';
import { approveBody, diffQuery, overrideBody, postmortemsQuery, releaseBody } from './governance-routes.ts';

/**
 * The OpenAPI paths of access control, the audit trail and the calendar (docs/access.md,
 * docs/audit.md, docs/windows.md), from the schemas the routes validate with.
 */
const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
const ok = (description: string, type = 'application/json') => ({
  '200': {
    description,
    content: { [type]: { schema: type === 'application/json' ? { type: 'object' } : { type: 'string' } } },
  },
});
const denied = {
  '401': {
    description: 'no token, or not a live one',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  },
  '403': {
    description: "the token's role is too low",
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  },
};
const queryParams = (s: z.ZodObject) =>
  Object.entries((schema(s) as { properties?: Record<string, object> }).properties ?? {}).map(([name, p]) => ({
    name,
    in: 'query',
    schema: p,
  }));

const name = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' },
};
const body = (s: z.ZodType) => ({ required: true, content: { 'application/json': { schema: schema(s) } } });

export function governancePaths(): Record<string, object> {
  return {
    '/api/whoami': {
      get: {
        summary: "the caller's token: name and role",
        responses: { ...ok('name, role, tokenId, expiresAt'), ...denied },
      },
    },
    '/api/access': {
      get: {
        summary: 'every route and the role it needs',
        responses: { ...ok('routes: [{method, url, access}]'), ...denied },
      },
    },
    '/api/tokens': {
      get: { summary: 'list API tokens (admin); never their secrets', responses: { ...ok('tokens'), ...denied } },
      post: {
        summary: 'create a token (admin); the answer holds the token, shown only once',
        requestBody: { required: true, content: { 'application/json': { schema: schema(createTokenBody) } } },
        responses: { ...ok('the token and its record'), ...denied },
      },
    },
    '/api/tokens/{id}': {
      delete: {
        summary: 'revoke a token by id or name (admin)',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { ...ok('the revoked token'), ...denied },
      },
    },
    '/api/audit/verify': {
      get: {
        summary: 'recompute the hash chain of the event log; names the first bad event',
        parameters: queryParams(verifyQuery),
        responses: { ...ok('{ok, checked, head, firstBad}'), ...denied },
      },
    },
    '/api/audit/export': {
      get: {
        summary: 'the event log with its hashes, one JSON object per line',
        parameters: queryParams(exportQuery),
        responses: { ...ok('JSON lines', 'application/x-ndjson'), ...denied },
      },
    },
    '/api/services/{name}/releases': {
      post: {
        summary:
          'promote a version to an environment: checks the gates; starts (200), waits for approvals or a window (202) or is refused naming the gate (409)',
        parameters: [name],
        requestBody: body(releaseBody),
        responses: {
          ...ok('the plan with every gate'),
          '202': { description: 'waiting for approvals or a window' },
          ...denied,
        },
      },
    },
    '/api/services/{name}/approve': {
      post: {
        summary: "approve the environment's open plan (approver role; never the release's author)",
        parameters: [name],
        requestBody: body(approveBody),
        responses: { ...ok('the plan after the approval'), ...denied },
      },
    },
    '/api/services/{name}/override': {
      post: {
        summary: 'override a failed gate with a reason (approver, not the author); opens a post-mortem',
        parameters: [name],
        requestBody: body(overrideBody),
        responses: { ...ok('the plan after the override'), ...denied },
      },
    },
    '/api/services/{name}/environments': {
      get: {
        summary: 'each environment: its service, versions, phase and open plan',
        parameters: [name],
        responses: { ...ok('environments'), ...denied },
      },
    },
    '/api/services/{name}/diff': {
      get: {
        summary: "how two environments' effective specs differ, field by field",
        parameters: [name, ...queryParams(diffQuery)],
        responses: { ...ok('{service, a, b, differences: [{path, a, b}]}'), ...denied },
      },
    },
    '/api/postmortems': {
      get: {
        summary: 'post-mortem records opened by gate overrides',
        parameters: queryParams(postmortemsQuery),
        responses: { ...ok('postmortems'), ...denied },
      },
    },
    '/api/policy': {
      get: {
        summary: 'the release policy in force (windows, freezes); apply one with POST /api/apply (kind: ReleasePolicy)',
        responses: { ...ok('{policy}'), ...denied },
      },
    },
    '/api/server-policy': {
      get: {
        summary:
          'what specs may make the server start and call (allowed executables and URL hosts); {} when no limit is set',
        responses: { ...ok('{policy}'), ...denied },
      },
      put: {
        summary:
          'set the server policy (admin); checked at every apply, recorded as serverPolicy.applied (docs/security.md)',
        requestBody: body(serverPolicySchema),
        responses: { ...ok('{policy}'), ...denied },
      },
    },
    '/api/calendar': {
      get: {
        summary: 'upcoming release windows and freezes; with service, whether it may release now',
        parameters: queryParams(calendarQuery),
        responses: { ...ok('{policy, from, to, state?, spans}'), ...denied },
      },
    },
  };
}

export const bearerScheme = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'an API token (sluice token create); GET /api/events also takes ?token=',
  },
};
