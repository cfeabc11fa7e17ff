import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventBody, ServiceEvent } from '../events.ts';
import { emptyReleaseMetrics, foldReleaseMetrics, renderPrometheus, renderFlagEvaluations } from './release-metrics.ts';

let seq = 0;
const ev = (service: string, at: number, body: Record<string, unknown>): ServiceEvent => ({
  ...(body as EventBody),
  service,
  at,
  actor: 'x',
  seq: ++seq,
});

describe('release metrics for Prometheus', () => {
  it('counts releases, rollbacks, verdicts and driver errors, and times reverts in a cumulative histogram', () => {
    const m = emptyReleaseMetrics();
    for (const e of [
      ev('checkout', 0, { type: 'release.started', release: {} }),
      ev('checkout', 10, {
        type: 'analysis.evaluated',
        verdicts: [
          { rule: 'error_rate', outcome: 'Pass' },
          { rule: 'latency', outcome: 'Inconclusive' },
        ],
      }),
      ev('checkout', 20, { type: 'analysis.evaluated', verdicts: [{ rule: 'error_rate', outcome: 'Fail' }] }),
      ev('checkout', 1000, {
        type: 'rollback.started',
        status: 'RolledBack',
        log: { kind: 'contract', detectedAt: 1000 },
      }),
      ev('checkout', 1300, { type: 'rollback.trafficReverted', at: 1300 }),
      ev('checkout', 2000, { type: 'release.started', release: {} }),
      ev('checkout', 3000, { type: 'release.succeeded', stable: {} }),
      ev('se"arch', 3000, { type: 'driver.failed', driver: 'router', operation: 'setWeights', error: 'x' }),
    ])
      foldReleaseMetrics(m, e);
    const text = renderPrometheus(m, [
      { service: 'checkout', phase: 'Healthy' },
      { service: 'se"arch', phase: 'Degraded' },
    ]);
    const lines = text.split('\n');
    for (const l of [
      'sluice_services{phase="Healthy"} 1',
      'sluice_releases_started_total{service="checkout"} 2',
      'sluice_releases_ended_total{service="checkout",outcome="rolled_back"} 1',
      'sluice_releases_ended_total{service="checkout",outcome="succeeded"} 1',
      'sluice_rollbacks_total{service="checkout",kind="contract"} 1',
      'sluice_time_to_revert_seconds_bucket{service="checkout",le="0.25"} 0',
      'sluice_time_to_revert_seconds_bucket{service="checkout",le="0.5"} 1',
      'sluice_time_to_revert_seconds_bucket{service="checkout",le="+Inf"} 1',
      'sluice_time_to_revert_seconds_sum{service="checkout"} 0.3',
      'sluice_verdicts_total{service="checkout",rule="error_rate",outcome="Fail"} 1',
      'sluice_driver_errors_total{service="se\\"arch",driver="router"} 1',
      '# TYPE sluice_time_to_revert_seconds histogram',
    ])
      assert.ok(lines.includes(l), `missing: ${l}\n${text}`);
    assert.ok(text.endsWith('\n'));
  });

  it('flag evaluations: one counter line per environment, flag and variant, with label values escaped; nothing without any', () => {
    assert.equal(renderFlagEvaluations([]), '');
    const text = renderFlagEvaluations([
      { environment: 'production', flag: 'new-cart', variant: 'on', evaluations: 7, errors: 1 },
      { environment: 'production', flag: 'new-"cart"', variant: 'off', evaluations: 3, errors: 0 },
    ]);
    const lines = text.split('\n');
    for (const l of [
      '# TYPE sluice_flag_evaluations_total counter',
      'sluice_flag_evaluations_total{environment="production",flag="new-cart",variant="on"} 7',
      'sluice_flag_evaluations_total{environment="production",flag="new-\\"cart\\"",variant="off"} 3',
      'sluice_flag_evaluation_errors_total{environment="production",flag="new-cart",variant="on"} 1',
    ])
      assert.ok(lines.includes(l), `missing: ${l}\n${text}`);
  });
});
