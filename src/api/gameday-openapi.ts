import { z } from 'zod';
import { rehearseBody, runBody, scheduleBody, signOffBody, stopBody } from './gameday-routes.ts';

/** The OpenAPI paths of game days (docs/drills.md), from the schemas the routes validate with. */
const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
const body = (s: z.ZodType) => ({ required: true, content: { 'application/json': { schema: schema(s) } } });
const ok = (description: string) => ({
  '200': { description, content: { 'application/json': { schema: { type: 'object' } } } },
});
const drill = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
};

export function gameDayPaths(): Record<string, object> {
  return {
    '/api/gamedays/run': {
      post: {
        summary:
          'run a GameDay (deployer; production: approver, in an open window); 202 at once, or 200 with the drill record when wait is true',
        requestBody: body(runBody),
        responses: {
          ...ok('the drill record'),
          '202': { description: 'the drill runs: { drill, run, service, status }' },
        },
      },
    },
    '/api/gamedays/stop': {
      post: {
        summary: 'the safety lever: stop every drill and remove every fault of every data plane, now',
        requestBody: body(stopBody),
        responses: ok('{ stopped, removed, ms }'),
      },
    },
    '/api/gamedays': {
      get: { summary: 'every drill run, newest first, and the scheduled drills', responses: ok('{ runs, schedules }') },
    },
    '/api/gamedays/schedules': {
      post: {
        summary:
          'schedule a GameDay with spec.schedule: it runs at each occurrence of its rule, its owners reminded before (deployer; production: approver); replaces an earlier one of its name',
        requestBody: body(scheduleBody),
        responses: { '201': { description: 'the scheduled drill with its next run' } },
      },
    },
    '/api/gamedays/schedules/{name}': {
      delete: {
        summary: 'unschedule a drill (deployer)',
        parameters: [drill],
        responses: { '204': { description: 'unscheduled' } },
      },
    },
    '/api/gamedays/{name}': {
      get: {
        summary: 'one run of a drill (its last without run): the drill record, as JSON or Markdown (format=md)',
        parameters: [
          drill,
          { name: 'run', in: 'query', schema: { type: 'integer' } },
          { name: 'format', in: 'query', schema: { enum: ['json', 'md'] } },
        ],
        responses: ok('the drill record'),
      },
    },
    '/api/rehearsals': {
      post: {
        summary:
          "rehearse a version's rollback for an environment with rehearsal.required: fault its canary in the environment before, see the contract revert it in time, release it there again (deployer)",
        requestBody: body(rehearseBody),
        responses: ok('the rehearsal: ok, timeToDetectMs, timeToRevertMs, retried'),
      },
      get: {
        summary: 'every rehearsal, and the share of releases into rehearsal-gated environments that were rehearsed',
        responses: ok('{ releases, rehearsed, share, rehearsals }'),
      },
    },
    '/api/gamedays/{name}/signoff': {
      post: {
        summary: "sign a finished run off (the GameDay's signOff role, approver by default), with action items",
        parameters: [drill],
        requestBody: body(signOffBody),
        responses: ok('the drill record'),
      },
    },
  };
}
