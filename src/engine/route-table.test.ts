import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyState, type ServiceState } from '../core/release/state.ts';
import { routeTableOf } from './route-table.ts';

function state(weights: Record<string, number>, instances: Record<string, number>, canary = '2'): ServiceState {
  const s = emptyState('svc');
  const runtimes = Object.fromEntries(
    Object.entries(instances).map(([key, n]) => [
      key,
      {
        key,
        version: `v${key}`,
        status: 'ready' as const,
        crashes: [],
        instances: Array.from({ length: n }, (_, i) => ({
          id: `${key}-${i}`,
          url: `http://127.0.0.1:${9000 + Number(key) * 10 + i}`,
        })),
      },
    ]),
  );
  return {
    ...s,
    weights,
    runtimes,
    release: { to: { key: canary, version: `v${canary}` } } as ServiceState['release'],
  };
}

test('the new revision comes first, with its endpoints and weight', () => {
  const { table, missing } = routeTableOf(state({ '1': 90, '2': 10 }, { '1': 2, '2': 1 }));
  assert.deepEqual(
    table.backends.map((b) => [b.key, b.weight, b.endpoints.length]),
    [
      ['2', 10, 1],
      ['1', 90, 2],
    ],
  );
  assert.deepEqual(missing, []);
});

test('a revision with weight but no endpoints is left out and its share spread over the others', () => {
  const { table, missing } = routeTableOf(state({ '1': 80, '2': 20 }, { '1': 1 }));
  assert.deepEqual(
    table.backends.map((b) => [b.key, b.weight]),
    [['1', 100]],
  );
  assert.deepEqual(missing, ['2']);
});

test('a drained revision at 0% stays in the table until it is stopped', () => {
  const { table } = routeTableOf(state({ '1': 100, '2': 0 }, { '1': 1, '2': 1 }));
  assert.deepEqual(
    table.backends.map((b) => [b.key, b.weight]),
    [
      ['2', 0],
      ['1', 100],
    ],
  );
});
