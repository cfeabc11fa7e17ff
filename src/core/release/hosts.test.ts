import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contract, STEPS } from '../testing/fixtures.ts';
import { deployed } from '../testing/test-driver.ts';

function releasing() {
  const d = deployed();
  d.send(
    { type: 'startRelease', kind: 'canary', to: { key: '2', version: '2.0.0' }, steps: STEPS, contract: contract() },
    100,
  );
  d.send({ type: 'targetReady', key: '2', instances: [{ id: '2-1', url: 'http://b' }] }, 200);
  assert.equal(d.state.release?.status, 'Progressing');
  return d;
}

test('a host that did not confirm the weights pauses the release in progress, naming it; all confirming does not', () => {
  const d = releasing();
  const weights = d.state.weights;
  const fine = d.send({ type: 'hostsApplied', weights, applied: { a: 300, b: 301 }, unreachable: {} }, 300);
  assert.deepEqual(
    fine.events.map((e) => e.type),
    ['router.hostsApplied'],
  );
  assert.equal(d.state.release?.status, 'Progressing');
  const partial = d.send(
    { type: 'hostsApplied', weights, applied: { a: 400 }, unreachable: { b: 'no answer within 1000 ms' } },
    400,
  );
  assert.deepEqual(
    partial.events.map((e) => e.type),
    ['router.hostsApplied', 'release.paused'],
  );
  assert.equal(d.state.release?.pause?.reason, 'dataPlane');
  assert.match(
    d.state.release?.pause?.detail ?? '',
    /^host b \(no answer within 1000 ms\) did not confirm the weights; the release does not advance on partial evidence/,
  );
  // Already paused: recorded, not paused again.
  assert.deepEqual(
    d.send({ type: 'hostsApplied', weights, applied: {}, unreachable: { b: 'x' } }, 500).events.map((e) => e.type),
    ['router.hostsApplied'],
  );
});

test("during a rollback each host's revert time goes into the rollback log, null until it confirms", () => {
  const d = releasing();
  d.send({ type: 'command', command: { kind: 'abort' } }, 1000);
  assert.ok(d.state.release?.rollback);
  // An apply at other weights (an older table) says nothing about the revert.
  d.send({ type: 'hostsApplied', weights: { 1: 50, 2: 50 }, applied: { a: 1005 }, unreachable: {} }, 1005);
  assert.equal(d.state.release?.rollback?.hosts, undefined);
  const reverted = d.state.weights;
  assert.equal(reverted['2'] ?? 0, 0);
  d.send(
    {
      type: 'hostsApplied',
      weights: reverted,
      applied: { a: 1010, c: 1011 },
      unreachable: { b: 'no answer for 3.0 s' },
    },
    1012,
  );
  assert.deepEqual(d.state.release?.rollback?.hosts, { a: 1010, c: 1011, b: null });
  d.send({ type: 'hostsApplied', weights: reverted, applied: { a: 2000, b: 2001, c: 2000 }, unreachable: {} }, 2002);
  assert.deepEqual(
    d.state.release?.rollback?.hosts,
    { a: 1010, c: 1011, b: 2001 },
    'each host keeps its first revert time',
  );
});
