import { z } from 'zod';
import { envBody, percentBody } from './flag-routes.ts';
import { sdkReportBody } from './sdk-routes.ts';

/** The OpenAPI paths of flags, OFREP and the provider's routes (docs/flags.md), from the schemas the routes validate with. */
const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
const ok = (description: string, type = 'application/json') => ({
  '200': {
    description,
    content: { [type]: { schema: type === 'application/json' ? { type: 'object' } : { type: 'string' } } },
  },
});
const err = { $ref: '#/components/schemas/Error' };
const refused = {
  '400': { description: 'a bad body', content: { 'application/json': { schema: err } } },
  '401': { description: 'no token, or not a live one', content: { 'application/json': { schema: err } } },
  '403': {
    description: "the token's role is too low (a protected environment: approver)",
    content: { 'application/json': { schema: err } },
  },
  '404': { description: 'no such flag or environment', content: { 'application/json': { schema: err } } },
};
const name = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
const body = (s: z.ZodType) => ({ required: true, content: { 'application/json': { schema: schema(s) } } });
const ofrepFailure = (codes: string[]) => ({
  description: codes.join(' / '),
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['errorCode'],
        properties: { key: { type: 'string' }, errorCode: { enum: codes }, errorDetails: { type: 'string' } },
      },
    },
  },
});
const ofrepRequest = {
  required: true,
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: {
          context: { type: 'object', properties: { targetingKey: { type: 'string' } }, additionalProperties: true },
        },
      },
    },
  },
};

export function flagPaths(): Record<string, object> {
  return {
    '/api/flags': {
      get: { summary: 'every flag, with its environments, exposure now and staleness', responses: ok('flags') },
    },
    '/api/flags/adoption': {
      get: {
        summary: 'the share of releases that ship behind flags (spec.flags of the revision released)',
        responses: ok('releases, behindFlags, share, services'),
      },
    },
    '/api/flags/stale': {
      get: { summary: 'flags past their expected lifetime (recomputed at each call)', responses: ok('flags') },
    },
    '/api/flags/{name}': {
      get: {
        summary:
          'one flag, with the evaluations (reported) and request outcomes (outcomes) applications reported per variant',
        parameters: [name],
        responses: { ...ok('the flag'), ...refused },
      },
    },
    '/api/flags/changes': {
      get: {
        summary:
          "every flag's changes (time, flag, type, environment, actor, percent, the change in words): the marks on services' charts",
        responses: ok('changes'),
      },
    },
    '/api/flags/{name}/variants': {
      get: {
        summary:
          "the flag guard's recent per-variant requests, errors and verdicts (at most 180 samples, one per 10 s, the last 30 minutes, kept across restarts; series null when the guard has no recent sample of the flag)",
        parameters: [name],
        responses: { ...ok('series'), ...refused },
      },
    },
    '/api/flags/{name}/events': {
      get: {
        summary: "the flag's events (who changed what, when)",
        parameters: [name],
        responses: { ...ok('events'), ...refused },
      },
    },
    '/api/flags/{name}/percent': {
      post: {
        summary: "set a rule's exposure in one environment",
        parameters: [name],
        requestBody: body(percentBody),
        responses: { ...ok('the flag'), ...refused },
      },
    },
    '/api/flags/{name}/resume': {
      post: {
        summary: 'resume a ramp its contract paused: it goes on from where it stopped and judging starts again',
        parameters: [name],
        requestBody: body(envBody),
        responses: { ...ok('the flag'), ...refused },
      },
    },
    '/api/flags/{name}/enable': {
      post: {
        summary: 'enable the flag in one environment',
        parameters: [name],
        requestBody: body(envBody),
        responses: { ...ok('the flag'), ...refused },
      },
    },
    '/api/flags/{name}/disable': {
      post: {
        summary: 'the kill switch: serve the off variant in one environment (never needs an approver)',
        parameters: [name],
        requestBody: body(envBody),
        responses: { ...ok('the flag'), ...refused },
      },
    },
    '/api/flags/{name}/archive': {
      post: {
        summary: 'archive: served to no one, history kept',
        parameters: [name],
        responses: { ...ok('the flag'), ...refused },
      },
    },
    '/ofrep/v1/evaluate/flags/{key}': {
      post: {
        summary: 'OFREP: evaluate one flag (sdk token; its environment)',
        parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: ofrepRequest,
        responses: {
          ...ok('key, value, reason, variant, metadata'),
          '400': ofrepFailure(['PARSE_ERROR', 'INVALID_CONTEXT', 'GENERAL']),
          '401': { description: 'no live token' },
          '404': ofrepFailure(['FLAG_NOT_FOUND']),
        },
      },
    },
    '/ofrep/v1/evaluate/flags': {
      post: {
        summary: 'OFREP: evaluate every flag of the environment; ETag / If-None-Match',
        parameters: [{ name: 'If-None-Match', in: 'header', schema: { type: 'string' } }],
        requestBody: ofrepRequest,
        responses: {
          ...ok('flags, metadata'),
          '304': { description: 'unchanged since the ETag' },
          '400': ofrepFailure(['PARSE_ERROR', 'INVALID_CONTEXT']),
          '401': { description: 'no live token' },
        },
      },
    },
    '/api/sdk/flags': {
      get: {
        summary: "the sdk token's environment's flag set, for local evaluation (ETag)",
        responses: { ...ok('environment, version, flags, segments'), '304': { description: 'unchanged' } },
      },
    },
    '/api/sdk/flags/stream': {
      get: {
        summary: 'the same set as server-sent events (event: flags), sent again on each change',
        responses: ok('event stream', 'text/event-stream'),
      },
    },
    '/api/sdk/evaluations': {
      post: {
        summary:
          "the provider hook's report: evaluations per flag and variant, and the outcomes (requests, errors, latency histogram) of the requests served under each variant, the evidence of a contract with evidence: sdk",
        requestBody: { required: true, content: { 'application/json': { schema: schema(sdkReportBody) } } },
        responses: { ...ok('accepted, ignored (outcomes of no flag or variant of the environment)'), ...refused },
      },
    },
  };
}
