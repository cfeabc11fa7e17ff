/** The OpenAPI paths of the dependency graph and release trains (docs/trains.md). */
const json = (description: string) => ({
  description,
  content: { 'application/json': { schema: { type: 'object' } } },
});
const error = { '404': json('no such train'), '409': json("not possible in the train's state (the message says why)") };
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
          'a train: each service (waiting, releasing, done, failed, rolled back, held) and the timeline of its run',
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
  };
}
