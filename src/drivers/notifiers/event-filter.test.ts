import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EVENT_GROUPS, EVENT_TYPES, eventSelection } from './event-filter.ts';

test('an events list becomes the set of event types it names', () => {
  assert.deepEqual(eventSelection.parse(['rollback.*']), [
    'rollback.started',
    'rollback.gradual',
    'rollback.gradualRefused',
    'rollback.trafficReverted',
    'rollback.canaryStopped',
  ]);
  assert.deepEqual(eventSelection.parse(['steps', 'release.failed', 'step.started']), [
    'step.started',
    'smoke.started',
    'smoke.finished',
    'release.failed',
  ]);
  assert.equal(eventSelection.parse(['all']).length, EVENT_TYPES.length);
});

test('names that select nothing are rejected', () => {
  assert.equal(eventSelection.safeParse(['nothing.*']).success, false);
  assert.equal(eventSelection.safeParse(['Rollback.started']).success, false);
});

test('every group holds only known event types, and milestones leave out the per-interval noise', () => {
  for (const [name, types] of Object.entries(EVENT_GROUPS)) {
    for (const type of types) assert.ok((EVENT_TYPES as readonly string[]).includes(type), `${name}: ${type}`);
  }
  assert.ok(!EVENT_GROUPS.milestones!.includes('analysis.evaluated'));
  assert.ok(!EVENT_GROUPS.milestones!.includes('traffic.applied'));
});
