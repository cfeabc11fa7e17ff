import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RouteLog, routeWrite } from './route-log.ts';

const table = (epoch?: number) => ({
  backends: [
    { key: 'a', version: '2.0.0', weight: 20, endpoints: ['http://127.0.0.1:1'] },
    { key: 'b', version: '1.0.0', weight: 80, endpoints: ['http://127.0.0.1:2'] },
  ],
  ...(epoch !== undefined && { epoch }),
});

test('a write names its epoch, the weights by version and, when refused, why', () => {
  assert.deepEqual(routeWrite(table(3), 10), {
    at: 10,
    epoch: 3,
    accepted: true,
    weights: { '2.0.0': 20, '1.0.0': 80 },
  });
  assert.deepEqual(routeWrite(table(), 11, 'stale epoch'), {
    at: 11,
    epoch: null,
    accepted: false,
    weights: { '2.0.0': 20, '1.0.0': 80 },
    error: 'stale epoch',
  });
});

test('the log is bounded: past its size it moves to routes.log.1 and starts again', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-route-log-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'routes.log');
  const line = `${JSON.stringify(routeWrite(table(1), 0))}\n`.length;
  const log = new RouteLog(path, line * 3);
  for (let i = 0; i < 5; i++) await log.append(routeWrite(table(i), i));
  const epochs = async (p: string) =>
    (await readFile(p, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { epoch: number }).epoch);
  assert.deepEqual(await epochs(`${path}.1`), [0, 1, 2]);
  assert.deepEqual(await epochs(path), [3, 4]);
});
