import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventBody, ServiceEvent } from '../events.ts';
import { reduce } from './reduce.ts';
import { emptyState, type ServiceState } from './state.ts';

const fold = (s: ServiceState, body: EventBody, at: number): ServiceState =>
  reduce(s, { ...body, service: 'checkout', at, actor: 'sluice-controller', seq: at } as ServiceEvent);

test('a failing driver is shown until it works again; the streak keeps its first time', () => {
  let s = emptyState('checkout');
  s = fold(
    s,
    { type: 'driver.failed', driver: 'router', operation: 'apply routes', error: 'EADDRINUSE 127.0.0.1:8080' },
    1,
  );
  s = fold(
    s,
    { type: 'driver.failed', driver: 'router', operation: 'apply routes', error: 'EADDRINUSE 127.0.0.1:8080' },
    5,
  );
  s = fold(s, { type: 'driver.failed', driver: 'target', operation: 'start', error: 'readiness timed out' }, 6);
  assert.deepEqual(s.problems?.router, {
    operation: 'apply routes',
    error: 'EADDRINUSE 127.0.0.1:8080',
    since: 1,
    at: 5,
  });
  s = fold(s, { type: 'traffic.applied', weights: { '1': 100 } }, 9);
  assert.equal(s.problems?.router, undefined, 'the router serves the table: no longer a problem');
  assert.equal(s.problems?.target?.error, 'readiness timed out', 'the target has not worked since');
  s = fold(s, { type: 'target.ready', key: '1', instances: [] }, 10);
  assert.deepEqual(s.problems, {});
});
