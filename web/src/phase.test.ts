import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReleaseView, ServiceStatus } from './api.ts';
import { byTrouble, commandBlocked, healthOf } from './phase.ts';

const release = (status: ReleaseView['status'], more: Partial<ReleaseView> = {}): ReleaseView => ({
  id: 's#2',
  number: 2,
  kind: 'canary',
  status,
  fromVersion: '1',
  toVersion: '2',
  fromRevision: '1',
  toRevision: '2',
  startedAt: '',
  startedBy: 'u',
  endedAt: null,
  durationMs: null,
  pause: null,
  error: null,
  rollback: null,
  ...more,
});
const status = (phase: ServiceStatus['phase'], r: ReleaseView | null, service = 's'): ServiceStatus =>
  ({
    service,
    phase,
    stableVersion: '1',
    stableRevision: '1',
    canaryVersion: null,
    canaryRevision: null,
    weights: {},
    appliedWeights: {},
    step: null,
    release: r,
    verdicts: [],
    lastRollback: null,
    instances: {},
    degraded: null,
    waiting: null,
    problems: [],
  }) as ServiceStatus;

test('services in trouble come first, then by name', () => {
  const list = [
    status('Healthy', null, 'a'),
    status('Progressing', null, 'b'),
    status('RolledBack', null, 'c'),
    status('Degraded', null, 'd'),
    status('Paused', null, 'e'),
  ];
  assert.deepEqual(
    list.sort(byTrouble).map((s) => s.service),
    ['d', 'c', 'e', 'b', 'a'],
  );
  assert.equal(healthOf(status('RolledBack', null)).health, 'bad');
});

test('each command is enabled only where the core accepts it', () => {
  const paused = (reason: 'step' | 'user') =>
    status('Paused', release('Paused', { pause: { reason, detail: '', by: 'u', at: '' } }));
  assert.equal(commandBlocked('promote', paused('step'), null), null);
  assert.match(commandBlocked('resume', paused('step'), null)!, /use promote/);
  assert.equal(commandBlocked('resume', paused('user'), null), null);
  assert.match(commandBlocked('pause', paused('user'), null)!, /Paused/);
  assert.match(commandBlocked('promote', status('Progressing', release('Starting')), null)!, /not ready/);
  assert.equal(commandBlocked('pause', status('Progressing', release('Progressing')), null), null);
  assert.match(commandBlocked('retry', status('Progressing', release('Progressing')), null)!, /in progress/);
  // At 100% for the verify window: promote accepts the release early; abort still rolls back.
  const verifying = status('Progressing', release('Verifying' as ReleaseView['status']));
  assert.equal(commandBlocked('promote', verifying, null), null);
  assert.equal(commandBlocked('abort', verifying, null), null);
  assert.match(commandBlocked('pause', verifying, null)!, /Verifying/);

  const rolledBack = status('RolledBack', release('RolledBack'));
  assert.equal(commandBlocked('retry', rolledBack, null), null);
  assert.match(commandBlocked('abort', rolledBack, null)!, /no release/);
  assert.match(commandBlocked('undo', rolledBack, [])!, /no previous revision/);
  assert.equal(
    commandBlocked('undo', rolledBack, [release('Succeeded', { number: 1, toRevision: '1', fromRevision: '0' })]),
    null,
  );
  assert.match(commandBlocked('retry', status('Healthy', release('Succeeded')), null)!, /succeeded/);
});
