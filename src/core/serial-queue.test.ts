import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerialQueue } from './serial-queue.ts';

test('work runs one piece at a time, in order, and a failure reaches only its own caller', async () => {
  const q = new SerialQueue();
  const log: string[] = [];
  let running = 0;
  const piece = (name: string, ms: number, fail = false) =>
    q.run(async () => {
      running += 1;
      assert.equal(running, 1, `${name} overlapped another piece`);
      log.push(`${name}:start`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`${name}:end`);
      running -= 1;
      if (fail) throw new Error(`${name} failed`);
      return name;
    });
  const results = await Promise.allSettled([piece('a', 20), piece('b', 1, true), piece('c', 5)]);
  assert.deepEqual(log, ['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    ['a', 'b failed', 'c'],
  );
});
