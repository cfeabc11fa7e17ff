/** The OpenAPI paths of the dependency graph and release trains (docs/trains.md). */
import { z } from 'zod';
import { trainApproveBody, trainRejectBody } from './train-routes.ts';

const body = (s: z.ZodType, required: boolean) => ({
  required,
  content: { 'application/json': { schema: z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) } },
});
const json = (description: string) => ({
  description,
  content: { 'application/json': { schema: { type: 'object' } } },
});
const error = { '404': json('no such train'), '409': json("not possible in the train's state (the message says why)") };
const approvalError = {
  ...error,
  '400': json('a bad body (the message names the field)'),
  '403': json(
    "refused: the token's role is below the train's spec.approvals.role, or (approve) the approver asked for the run (four-eyes) or approved it already",
  ),
};
const name = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' },
};

export function trainPaths(): Record<string, object> {
  return {
    '/api/graph': {
      get: {
        summary:
          'the dependency graph: services, versions running and releasing, edges with their ranges (met or not), violations, release levels',
        parameters: [{ name: 'format', in: 'query', schema: { enum: ['json', 'dot'] } }],
        responses: {
          '200': {
            description: 'the graph (format=dot: Graphviz text)',
            content: {
              'application/json': { schema: { type: 'object' } },
              'text/vnd.graphviz': { schema: { type: 'string' } },
            },
          },
        },
      },
    },
    '/api/trains': {
      get: { summary: 'every release train', responses: { '200': json('trains, each with its services') } },
    },
    '/api/trains/{name}': {
      get: {
        summary:
          'a train: its status (WaitingForApproval with its approvals, a release window it waits for), each service (waiting, releasing, done, failed, rolled back, held) and the timeline of its run',
        parameters: [name],
        responses: { '200': json('the train'), ...error },
      },
    },
    '/api/trains/{name}/abort': {
      post: {
        summary: 'stop the train: releasing services are aborted, waiting ones held',
        parameters: [name],
        responses: { '200': json('the train'), ...error },
      },
    },
    '/api/trains/{name}/retry': {
      post: {
        summary: 'a new run of a stopped train; services already on their version count as done',
        parameters: [name],
        responses: { '200': json('the train'), ...error },
      },
    },
    '/api/trains/{name}/approve': {
      post: {
        summary:
          'approve the run waiting for approvals (spec.approvals; approver, or the role it names): never by who applied or retried it; the last approval needed starts it',
        parameters: [name],
        requestBody: body(trainApproveBody, false),
        responses: { '200': json('the train'), ...approvalError },
      },
    },
    '/api/trains/{name}/reject': {
      post: {
        summary:
          'reject the run waiting for approvals, with a comment: it ends without starting anything (a scheduled train keeps its next runs)',
        parameters: [name],
        requestBody: body(trainRejectBody, true),
        responses: { '200': json('the train'), ...approvalError },
      },
    },
  };
}
