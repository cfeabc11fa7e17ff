import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReadBack } from './route-keeper.ts';
import { CONFIRM_MS, FAILURE_GRACE_MS, READ_TIMEOUT_MS, RouteReadBack } from './route-read-back.ts';

function harness(answers: ReadBack[]) {
  let now = 1000;
  const seen = { drifted: [] as string[][], failed: [] as string[], reasserted: 0, timeouts: [] as number[] };
  let held = false;
  const source = {
    readBack: async (timeoutMs: number) => {
      seen.timeouts.push(timeoutMs);
      return answers.shift() ?? { kind: 'same' as const };
    },
    reassert: async () => {
      seen.reasserted++;
      return true;
    },
  };
  const rb = new RouteReadBack(
    () => source,
    {
      drifted: async (d) => void seen.drifted.push(d),
      failed: async (e) => void seen.failed.push(e),
      hold: () => held,
    },
    () => now,
  );
  return { rb, seen, advance: (ms: number) => (now += ms), hold: (h: boolean) => (held = h) };
}

const drift = (d: string): ReadBack => ({ kind: 'drift', differences: [d] });

test('a drift seen twice in a row is reported once and re-asserted; a passing one is not', async () => {
  const h = harness([drift('a'), { kind: 'same' }, drift('b'), drift('b'), { kind: 'same' }]);
  assert.equal(await h.rb.check(), 'pending');
  assert.equal(await h.rb.check(), 'same', 'the change was in flight: nothing reported');
  assert.equal(await h.rb.check(), 'pending');
  assert.equal(await h.rb.check(), 'drift');
  assert.deepEqual(h.seen.drifted, [['b']]);
  assert.equal(h.seen.reasserted, 1);
  assert.equal(await h.rb.check(), 'same');
  assert.deepEqual(h.seen.timeouts, Array(5).fill(READ_TIMEOUT_MS), 'every read is time-boxed');
});

test('poll waits CONFIRM_MS before the confirming read, and never while held', async () => {
  const h = harness([drift('a'), drift('a')]);
  h.rb.poll();
  await new Promise((r) => setImmediate(r));
  h.rb.poll(); // too early: the confirmation waits
  await new Promise((r) => setImmediate(r));
  assert.equal(h.seen.timeouts.length, 1);
  h.advance(CONFIRM_MS);
  h.hold(true);
  h.rb.poll();
  await new Promise((r) => setImmediate(r));
  assert.equal(h.seen.timeouts.length, 1, 'held: no read');
  h.hold(false);
  h.rb.poll();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(h.seen.drifted, [['a']]);
});

test('a read failing for a moment is not reported; a lasting failure is, and then re-asserted when it answers', async () => {
  const fail: ReadBack = { kind: 'failed', error: 'no answer within 1000 ms' };
  const h = harness([fail, { kind: 'same' }, fail, fail, fail, fail, { kind: 'same' }]);
  await h.rb.check();
  await h.rb.check();
  assert.deepEqual([h.seen.failed, h.seen.reasserted], [[], 0], 'a blip: nothing reported, nothing re-applied');
  await h.rb.check();
  h.advance(FAILURE_GRACE_MS);
  await h.rb.check();
  await h.rb.check();
  assert.deepEqual(h.seen.failed, ['no answer within 1000 ms'], 'reported once past the grace');
  h.advance(30_000);
  await h.rb.check();
  assert.equal(h.seen.failed.length, 2, 'again after 30 s');
  assert.equal(h.seen.reasserted, 0);
  await h.rb.check();
  assert.equal(h.seen.reasserted, 1);
});
