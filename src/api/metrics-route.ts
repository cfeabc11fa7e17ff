import type { FastifyInstance } from 'fastify';
import type { MetricsCollector } from '../analytics/metrics-collector.ts';
import { type FlagEvaluationCount, renderFlagEvaluations } from '../core/analytics/release-metrics.ts';
import { type Engine } from '../engine/index.ts';

/**
 * `GET /metrics`: Sluice's own metrics in the Prometheus text format (docs/analytics.md), and the
 * flag evaluations applications reported, where there are any. It needs a viewer token like every
 * read of the API (service names and failure counts are not public): give Prometheus one with
 * `authorization: { credentials_file: … }` in the scrape config.
 */
export function registerMetricsRoute(
  app: FastifyInstance,
  engine: Engine,
  metrics: MetricsCollector,
  flagEvaluations: () => FlagEvaluationCount[] = () => [],
): void {
  app.get('/metrics', async (_req, reply) =>
    reply
      .type('text/plain; version=0.0.4; charset=utf-8')
      .send(
        metrics.render(engine.list().map((s) => ({ service: s.service, phase: s.phase }))) +
          renderFlagEvaluations(flagEvaluations()),
      ),
  );
}
