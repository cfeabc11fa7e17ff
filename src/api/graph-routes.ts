/** GET /api/graph: the dependency graph (docs/trains.md), as JSON or, with ?format=dot, Graphviz DOT. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { graphToDot } from '../core/graph/index.ts';
import { type Engine } from '../engine/index.ts';

const graphQuery = z.strictObject({ format: z.enum(['json', 'dot']).optional() });

export function registerGraphRoutes(app: FastifyInstance, engine: Engine): void {
  app.get('/api/graph', async (req, reply) => {
    const { format } = graphQuery.parse(req.query);
    const graph = await engine.graph();
    if (format === 'dot') return reply.type('text/vnd.graphviz; charset=utf-8').send(graphToDot(graph));
    return graph;
  });
}
