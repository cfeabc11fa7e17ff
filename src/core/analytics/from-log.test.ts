import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventBody, ServiceEvent } from '../events.ts';
import { deploymentsFromLog, serviceEnvironment } from './from-log.ts';

const T0 = Date.UTC(2026, 5, 1, 10);
let seq = 0;
const ev = (at: number, body: Record<string, unknown>): ServiceEvent => ({
  ...(body as EventBody),
  service: 'checkout',
  at: T0 + at,
  actor: 'x',
  seq: ++seq,
});
const started = (at: number, number: number, version: string) =>
  ev(at, { type: 'release.started', release: { id: `r${number}`, number, to: { key: String(number + 1), version } } });

describe('deployments from the log', () => {
  it('a progressive success, a rollback after traffic, and a rollback before any traffic', () => {
    const events = [
      started(0, 1, '2.0.0'),
      ev(100, { type: 'traffic.applied', weights: { '1': 80, '2': 20 } }),
      ev(5000, { type: 'traffic.applied', weights: { '2': 100 } }),
      ev(5100, { type: 'release.succeeded', stable: { key: '2', version: '2.0.0' } }),
      started(10_000, 2, '3.0.0'),
      ev(10_050, { type: 'traffic.applied', weights: { '2': 0, '3': 100 } }),
      ev(12_000, { type: 'rollback.started', status: 'RolledBack', log: { detectedAt: T0 + 12_000 } }),
      ev(12_030, { type: 'rollback.trafficReverted', at: T0 + 12_030 }),
      started(20_000, 3, '3.0.1'),
      ev(20_500, { type: 'rollback.started', status: 'Aborted', log: { detectedAt: T0 + 20_500 } }),
      ev(20_510, { type: 'rollback.trafficReverted', at: T0 + 20_510 }),
    ];
    const ds = deploymentsFromLog('checkout--production', events, 'payments', {
      commitsOf: (v) => (v === '2.0.0' ? ['abc'] : []),
    });
    assert.equal(ds.length, 2, 'the release rolled back before any traffic is no deployment');
    assert.deepEqual(
      ds.map((d) => [d.id, d.service, d.environment, d.result, d.progressive, d.finishedAt - T0]),
      [
        ['sluice:checkout--production:1', 'checkout', 'production', 'success', true, 5100],
        ['sluice:checkout--production:2', 'checkout', 'production', 'rolledback', false, 12_030],
      ],
    );
    assert.deepEqual(ds[0]!.commits, ['abc']);
    assert.equal(ds[1]!.firstTrafficAt, T0 + 10_050);
    assert.equal(ds[1]!.trafficRevertedAt, T0 + 12_030);
    assert.equal(ds[1]!.revertMs, 30);
  });

  it('rehearsed and behind a flag come from the facts given, unknown without them', () => {
    const events = [
      started(0, 1, '2.0.0'),
      ev(100, { type: 'traffic.applied', weights: { '1': 90, '2': 10 } }),
      ev(5100, { type: 'release.succeeded', stable: { key: '2', version: '2.0.0' } }),
      started(10_000, 2, '3.0.0'),
      ev(10_050, { type: 'traffic.applied', weights: { '2': 90, '3': 10 } }),
      ev(15_000, { type: 'release.succeeded', stable: { key: '3', version: '3.0.0' } }),
    ];
    const unknown = deploymentsFromLog('checkout--production', events, null);
    assert.deepEqual(
      unknown.map((d) => [d.rehearsed, d.behindFlag]),
      [
        [null, null],
        [null, null],
      ],
    );
    const seen: [string, string, number][] = [];
    const known = deploymentsFromLog('checkout--production', events, null, {
      flagsOf: (key) => (key === '3' ? ['new-checkout'] : []),
      rehearsedBefore: (version, environment, at) => {
        seen.push([version, environment, at - T0]);
        return version === '2.0.0';
      },
    });
    assert.deepEqual(
      known.map((d) => [d.version, d.rehearsed, d.behindFlag]),
      [
        ['2.0.0', true, false],
        ['3.0.0', false, true],
      ],
    );
    assert.deepEqual(seen, [
      ['2.0.0', 'production', 0],
      ['3.0.0', 'production', 10_000],
    ]);
  });

  it('names the environment from the log name', () => {
    assert.deepEqual(serviceEnvironment('checkout'), { service: 'checkout', environment: 'production' });
    assert.deepEqual(serviceEnvironment('checkout--staging'), { service: 'checkout', environment: 'staging' });
  });
});
