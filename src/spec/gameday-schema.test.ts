import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGameDay } from './gameday-schema.ts';

const doc = (method: string, extra = '') => `apiVersion: sluice.dev/v1alpha1
kind: GameDay
metadata: { name: checkout-drill }
spec:
  service: checkout--staging
  hypothesis:
    probes:
      - { name: home, http: { url: "http://127.0.0.1:8082/" }, every: 1s, tolerance: 99% }
  method:
${method}
${extra}`;

test("the issue's GameDay reads into faults in sequence and in parallel", () => {
  const g = parseGameDay(
    doc(
      `    - fault: { target: canary, latency: 900ms, percent: 100, for: 2m }
    - parallel:
        - fault: { target: stable, errors: 503, cohort: { header: X-User-Id, percent: 5 }, for: 1m }
        - fault: { target: stable, errors: reset, percent: 1, for: 1m }`,
      '  stopConditions: [ { probe: home, below: 90% } ]\n  signOff: { role: approver }',
    ),
    'drill.yaml',
  );
  assert.equal(g.service, 'checkout--staging');
  assert.deepEqual(g.probes[0], {
    name: 'home',
    url: 'http://127.0.0.1:8082/',
    expectStatus: 200,
    everyMs: 1000,
    tolerance: 99,
    weight: 1,
  });
  assert.deepEqual(g.method[0]!.faults, [
    { target: 'canary', effect: { kind: 'latency', ms: 900 }, percent: 100, forMs: 120_000 },
  ]);
  assert.deepEqual(
    g.method[1]!.faults.map((f) => [f.effect, f.percent, f.cohort]),
    [
      [{ kind: 'error', status: 503 }, 5, { header: 'x-user-id' }],
      [{ kind: 'reset' }, 1, undefined],
    ],
  );
  assert.deepEqual(g.stopConditions, [{ probe: 'home', below: 90 }]);
  const outage = parseGameDay(doc('    - fault: { target: metrics, outage: true, for: 30s }'), 'drill.yaml');
  assert.deepEqual(outage.method[0]!.faults, [
    { target: 'metrics', effect: { kind: 'metricsOutage' }, percent: 100, forMs: 30_000 },
  ]);
  assert.deepEqual(g.signOff, { role: 'approver' });
});

test('instance faults: kill, stop and restart N instances of a version', () => {
  const g = parseGameDay(
    doc(`    - parallel:
        - fault: { target: instance, kill: 1, version: canary }
        - fault: { target: stable, latency: 100ms, for: 5s }
    - fault: { target: instance, stop: 2, for: 10s }
    - fault: { target: instance, restart: 1, version: stable, for: 3s }`),
    'drill.yaml',
  );
  assert.deepEqual(
    g.method.map((s) => [s.faults.length, s.instanceFaults]),
    [
      [1, [{ action: 'kill', count: 1, version: 'canary', forMs: 10_000 }]],
      [0, [{ action: 'stop', count: 2, version: null, forMs: 10_000 }]],
      [0, [{ action: 'restart', count: 1, version: 'stable', forMs: 3000 }]],
    ],
  );
});

test('bad faults are refused with file:line:col, the field and what is valid', () => {
  const refused = (method: string): string => {
    try {
      parseGameDay(doc(method), 'drill.yaml');
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error(`accepted: ${method}`);
  };
  assert.match(
    refused('    - fault: { target: canary, errors: 503, percent: 101, for: 1m }'),
    /^drill\.yaml:10:\d+: spec\.method\[0\]\.fault\.percent: a share is more than 0% and at most 100%, got 101%/,
  );
  assert.match(
    refused('    - fault: { target: canary, errors: 503, latency: 1s, for: 1m }'),
    /a fault has exactly one effect/,
  );
  assert.match(
    refused('    - fault: { target: instance, kill: 1, stop: 1, for: 1m }'),
    /an instance fault is \{ target: instance, kill: N \| stop: N \| restart: N/,
  );
  assert.match(
    refused('    - fault: { target: instance, stop: 1 }'),
    /spec\.method\[0\]\.fault\.for: a stop fault says how long/,
  );
  assert.match(refused('    - fault: { target: instance, kill: 0 }'), /spec\.method\[0\]\.fault\.kill/);
  assert.match(refused('    - fault: { target: canary, restart: 1, for: 1m }'), /are for target: instance/);
  assert.match(
    refused(
      '    - fault: { target: stable, errors: 503, cohort: { header: x-user-id, cookie: sid, percent: 5 }, for: 1m }',
    ),
    /a cohort hashes users by one key/,
  );
  assert.match(refused('    - fault: { target: stable, errors: 503 }'), /spec\.method\[0\]\.fault\.for/);
  assert.match(
    refused('    - fault: { target: metrics, errors: 503, for: 1m }'),
    /a metrics fault is \{ target: metrics, outage: true, for: DURATION \}/,
  );
  assert.match(
    refused('    - fault: { target: stable, outage: true, for: 1m }'),
    /outage: true is for target: metrics/,
  );
});
