import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ActiveFault } from './fault.ts';
import {
  drillRecords,
  drillTimes,
  resilienceScore,
  type StoredDrillEvent,
  timeToDetect,
  timeToRestore,
  toleranceMet,
} from './record.ts';

const hit = (firstHitAt: number | null, lastHitAt: number | null, hits = 1): ActiveFault => ({
  id: 'd/1/0',
  key: '2',
  effect: { kind: 'error', status: 503 },
  percent: 100,
  ttlMs: 5000,
  setAt: 0,
  expiresAt: 5000,
  hits,
  firstHitAt,
  lastHitAt,
});

test('time to detect runs from the first faulted request to the Fail; time to restore to the last faulted request', () => {
  const faults = [hit(1000, 1800), hit(1200, 2400)];
  assert.equal(timeToDetect(faults, 1650), 650);
  assert.equal(timeToRestore(faults), 1400);
  assert.equal(timeToDetect(faults, null), null, 'no Fail: not detected');
  assert.equal(timeToDetect(faults, 900), null, 'a Fail before the fault is not its detection');
  assert.equal(timeToDetect([hit(null, null, 0)], 2000), null, 'no request hit: nothing to detect');
  assert.equal(timeToRestore([hit(null, null, 0)]), null);
});

test('a probe meets its tolerance on evidence only; the score weighs each probe against its tolerance', () => {
  assert.equal(toleranceMet({ probe: 'home', good: 99, total: 100, tolerance: 99, weight: 1 }), true);
  assert.equal(toleranceMet({ probe: 'home', good: 98, total: 100, tolerance: 99, weight: 1 }), false);
  assert.equal(toleranceMet({ probe: 'home', good: 0, total: 0, tolerance: 99, weight: 1 }), false);
  assert.equal(resilienceScore({ before: [{ probe: 'a', good: 10, total: 10, tolerance: 90, weight: 1 }] }), 100);
  // a at 100% of its need (weight 1), b at 45/90 = 50% (weight 3): (1 + 1.5) / 4.
  const score = resilienceScore({
    during: [
      { probe: 'a', good: 10, total: 10, tolerance: 90, weight: 1 },
      { probe: 'b', good: 45, total: 100, tolerance: 90, weight: 3 },
    ],
  });
  assert.equal(score, 62.5);
  assert.equal(resilienceScore({ after: [{ probe: 'a', good: 0, total: 0, tolerance: 90, weight: 1 }] }), null);
});

test("a run's events fold into its record: faults with their hits, phases, verdict, sign-off", () => {
  const base = { drill: 'd', run: 1, drilled: 'shop', service: '_drills', actor: 'ann', seq: 0 };
  const gameDay = {
    name: 'd',
    service: 'shop',
    probes: [],
    method: [],
    stopConditions: [],
    steadyStateMs: { before: 0, after: 0 },
    signOff: null,
  };
  const events: StoredDrillEvent[] = [
    { ...base, type: 'drill.started', at: 1, gameDay, leaseMs: 3000 },
    { ...base, type: 'drill.faultsSet', at: 2, step: 0, faults: [] },
    { ...base, type: 'drill.faultsCleared', at: 3, step: 0, faults: [hit(2, 3)], reason: 'its time ran out' },
    { ...base, type: 'drill.steadyState', at: 4, phase: 'after', tallies: [] },
    {
      ...base,
      type: 'drill.traffic',
      at: 4,
      traffic: { at: [1000, 2000], byKey: { '1': { requests: [10, 12], errors: [0, null] } } },
    },
    {
      ...base,
      type: 'drill.finished',
      at: 5,
      verdict: 'passed',
      detail: 'ok',
      timeToDetectMs: 1,
      timeToRestoreMs: 1,
      score: 100,
    },
    {
      ...base,
      type: 'drill.signedOff',
      at: 6,
      actor: 'bob',
      role: 'approver',
      comment: 'good',
      actionItems: [{ text: 'page faster', owner: 'ann' }],
    },
  ];
  const [r] = drillRecords(events);
  assert.equal(r!.status, 'passed');
  assert.equal(r!.faults.length, 1);
  assert.deepEqual(r!.signOff, { by: 'bob', role: 'approver', at: 6, comment: 'good' });
  assert.deepEqual(r!.actionItems, [{ text: 'page faster', owner: 'ann' }]);
  assert.equal(r!.timeline.length, 6, 'the traffic samples are not a timeline entry');
  assert.deepEqual(r!.traffic?.byKey['1'], { requests: [10, 12], errors: [0, null] });
});

test('instance faults: detect from the first fault to the Fail; restore when each answers again or its canary was reverted', () => {
  const killed = { key: '2', at: 1000, answeringAt: null };
  const reverted = { at: 1900, key: '2' };
  assert.deepEqual(drillTimes({ hits: [], instances: [killed], failAt: 1700, reverted }), {
    timeToDetectMs: 700,
    timeToRestoreMs: 900,
  });
  // Answering again before the revert: restored then.
  assert.deepEqual(drillTimes({ hits: [], instances: [{ ...killed, answeringAt: 1400 }], failAt: 1700, reverted }), {
    timeToDetectMs: 700,
    timeToRestoreMs: 400,
  });
  // A stable instance stopped: a canary's revert does not restore it; not answering yet is not restored.
  const stopped = { key: '1', at: 1000, answeringAt: null };
  assert.deepEqual(drillTimes({ hits: [], instances: [stopped], failAt: null, reverted }), {
    timeToDetectMs: null,
    timeToRestoreMs: null,
  });
  assert.equal(drillTimes({ hits: [], instances: [killed], failAt: 900, reverted: null }).timeToDetectMs, null);
  // With proxy faults too: the first of both starts it, the last of both ends it.
  const both = drillTimes({
    hits: [hit(800, 2500)],
    instances: [{ ...killed, answeringAt: 1400 }],
    failAt: 1700,
    reverted,
  });
  assert.deepEqual(both, { timeToDetectMs: 900, timeToRestoreMs: 1700 });
});
