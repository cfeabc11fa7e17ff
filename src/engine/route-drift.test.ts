import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RouteTable } from '../drivers/routers/types.ts';
import { routeDrift } from './route-drift.ts';

const intended: RouteTable = {
  backends: [
    { key: '2', version: '2.0.0', weight: 20, endpoints: ['http://127.0.0.1:3', 'http://127.0.0.1:4'] },
    { key: '1', version: '1.0.0', weight: 80, endpoints: ['http://127.0.0.1:1'] },
  ],
  routes: [{ key: '2', match: { header: 'x-canary', value: '1' } }],
};

test("the same table, reordered, with the router's own stickiness, is no drift", () => {
  const served: RouteTable = {
    backends: [
      { ...intended.backends[1]! },
      { ...intended.backends[0]!, endpoints: ['http://127.0.0.1:4', 'http://127.0.0.1:3'], weight: 20.004 },
    ],
    stickiness: { header: 'x-user-id' },
    routes: intended.routes!,
  };
  assert.deepEqual(routeDrift(intended, served), []);
});

test('each difference is named: no table, weights, endpoints, a foreign backend, cohort routes', () => {
  assert.deepEqual(routeDrift(intended, null), ['the router serves no table']);
  const hijacked: RouteTable = {
    backends: [
      { key: '1', version: '1.0.0', weight: 0, endpoints: ['http://127.0.0.1:1'] },
      { key: '9', version: 'evil', weight: 100, endpoints: ['http://127.0.0.1:9'] },
    ],
  };
  assert.deepEqual(routeDrift(intended, hijacked), [
    'revision 2 (2.0.0) is not served (intended 20%)',
    'revision 1 (1.0.0) has 0% (intended 80%)',
    'backend 9 (evil) is served with 100% to http://127.0.0.1:9; Sluice did not ask for it',
    'cohort routes are [] (intended [{"key":"2","match":{"header":"x-canary","value":"1"}}])',
  ]);
  const moved = structuredClone(intended);
  moved.backends[1]!.endpoints = ['http://10.0.0.1:1'];
  assert.deepEqual(routeDrift(intended, moved), [
    'revision 1 (1.0.0) goes to http://10.0.0.1:1 (intended http://127.0.0.1:1)',
  ]);
});
