import type { Observation } from '../core/analysis/judge.ts';
import { isActive, type ServiceState } from '../core/release/state.ts';
import type { Measurement, QueryResult, QueryRule } from '../core/types.ts';
import { fillQuery } from '../drivers/metrics/query-template.ts';
import type { MetricsProvider } from '../drivers/metrics/types.ts';
import { messageOf, withTimeout } from './retry.ts';

/**
 * Gather what the judge needs for the active release: canary and baseline figures over the
 * contract's window and their crash counts, the canary over each burn-rate window, and each
 * query rule's values. Everything runs at once under one deadline: a slow or failing provider
 * yields error measurements (Inconclusive, then the contract's metricsErrors policy), never a
 * hang and never zeros.
 */
export async function collectObservation(
  state: ServiceState,
  metrics: MetricsProvider,
  now: number,
): Promise<Observation> {
  const r = state.release;
  if (!isActive(r) || r.from === null) throw new Error('no release to observe');
  const { windowMs, intervalMs, rules } = r.contract;
  const canary = r.to;
  const baseline = r.from;
  // The provider's own timeout is honoured (it ends its queries then); this deadline is the backstop.
  const deadline = Math.max(1_000, intervalMs, metrics.timeoutMs === undefined ? 0 : metrics.timeoutMs + 250);
  const guarded = <T>(work: () => Promise<T>, what: string, onError: (message: string) => T): Promise<T> =>
    withTimeout(Promise.resolve().then(work), deadline, what).catch((err: unknown) => onError(messageOf(err)));

  const error = (message: string): Measurement => ({ kind: 'error', message });
  const needsStats = rules.some(
    (rule) => rule.metric !== 'query' && rule.metric !== 'signal' && rule.metric !== 'burn_rate',
  );
  const stats = needsStats
    ? guarded(
        () => metrics.collect([canary.key, baseline.key], windowMs),
        'metrics collection',
        (m) => ({ [canary.key]: error(m), [baseline.key]: error(m) }),
      )
    : Promise.resolve({} as Record<string, Measurement>);

  const burnWindows = [
    ...new Set(
      rules.flatMap((rule) => (rule.metric === 'burn_rate' ? rule.windows.flatMap((w) => [w.longMs, w.shortMs]) : [])),
    ),
  ];
  const windows = Promise.all(
    burnWindows.map(
      async (ms) =>
        [
          ms,
          await guarded(
            async () => (await metrics.collect([canary.key], ms))[canary.key] ?? { kind: 'noData' as const },
            'metrics collection',
            error,
          ),
        ] as const,
    ),
  );

  const runQuery = (rule: QueryRule, version: string): Promise<QueryResult> =>
    guarded(
      async () => {
        if (metrics.query === undefined)
          return {
            kind: 'error' as const,
            message: 'this metrics provider does not answer queries; use one that does (prometheus, web)',
          };
        const escape = metrics.escapeQueryValue?.bind(metrics) ?? ((v: string) => v);
        return metrics.query(fillQuery(rule.query, { version, service: state.service, windowMs }, escape), windowMs);
      },
      `query ${rule.name}`,
      (message) => ({ kind: 'error', message }),
    );
  const queries = Promise.all(
    rules.flatMap((rule) =>
      rule.metric === 'query'
        ? [
            Promise.all([
              runQuery(rule, canary.version),
              rule.failIf.reference === 'baseline' ? runQuery(rule, baseline.version) : null,
            ]).then(([c, b]) => [rule.name, { canary: c, baseline: b }] as const),
          ]
        : [],
    ),
  );

  const [figures, canaryWindows, queryResults] = await Promise.all([stats, windows, queries]);
  const crashes = (key: string) => (state.runtimes[key]?.crashes ?? []).filter((t) => t > now - windowMs).length;
  return {
    canary: figures[canary.key] ?? { kind: 'noData' },
    baseline: figures[baseline.key] ?? { kind: 'noData' },
    canaryCrashes: crashes(canary.key),
    baselineCrashes: crashes(baseline.key),
    ...(queryResults.length > 0 && { queries: Object.fromEntries(queryResults) }),
    ...(canaryWindows.length > 0 && { canaryWindows: Object.fromEntries(canaryWindows) }),
  };
}
