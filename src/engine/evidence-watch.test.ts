import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetricsProvider } from '../drivers/metrics/types.ts';
import { EvidenceWatch } from './evidence-watch.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A provider whose watch does what `behave` says; it records each call's key and signal. */
function provider(behave: (key: string, signal: AbortSignal) => Promise<void>) {
  const calls: { key: string; signal: AbortSignal }[] = [];
  const p: MetricsProvider = {
    collect: async () => ({}),
    close: async () => {},
    watch: (key, signal) => {
      calls.push({ key, signal });
      return behave(key, signal);
    },
  };
  return { p, calls };
}

/** Waits until `signal` aborts, then rejects, as a provider's watch does. */
const untilAborted = (_key: string, signal: AbortSignal) =>
  new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));

test('one watch per key: the same key keeps it, another key or provider replaces it, null and stop abort it', async () => {
  const { p, calls } = provider(untilAborted);
  const w = new EvidenceWatch(() => {});
  w.sync(p, '2');
  w.sync(p, '2');
  assert.equal(calls.length, 1);
  w.sync(p, '3');
  assert.equal(calls.length, 2);
  assert.equal(calls[0]!.signal.aborted, true, 'the old key is no longer watched');
  const other = provider(untilAborted);
  w.sync(other.p, '3');
  assert.equal(calls[1]!.signal.aborted, true, 'a replaced provider is no longer watched');
  assert.equal(other.calls.length, 1);
  w.sync(other.p, null);
  assert.equal(other.calls[0]!.signal.aborted, true);
  assert.equal(w.key, null);
  w.sync(other.p, '4');
  w.stop();
  assert.equal(other.calls[1]!.signal.aborted, true);
  await sleep(20);
  assert.equal(other.calls.length, 2, 'nothing runs after stop');
});

test('a provider without watch is not watched', () => {
  const w = new EvidenceWatch(() => assert.fail('no wake-up'));
  w.sync({ collect: async () => ({}), close: async () => {} }, '2');
  assert.equal(w.key, null);
});

test('each resolution wakes the controller, at most once per gap, however fast the provider answers', async () => {
  const { p, calls } = provider(async () => {});
  const wakes: number[] = [];
  const w = new EvidenceWatch(() => wakes.push(performance.now()), 50);
  w.sync(p, '2');
  await sleep(320);
  w.stop();
  assert.ok(wakes.length >= 3 && wakes.length <= 8, `${wakes.length} wake-ups in 320 ms`);
  for (let i = 1; i < wakes.length; i++)
    assert.ok(wakes[i]! - wakes[i - 1]! >= 45, `wake-ups ${wakes[i]! - wakes[i - 1]!} ms apart`);
  assert.ok(calls.length - wakes.length <= 1, `${calls.length} calls for ${wakes.length} wake-ups`);
});

test('a failing provider is asked again after a pause, never in a tight loop', async () => {
  const { p, calls } = provider(async () => {
    throw new Error('proxy down');
  });
  const w = new EvidenceWatch(() => assert.fail('no wake-up on an error'));
  w.sync(p, '2');
  await sleep(300);
  w.stop();
  assert.equal(calls.length, 1, `${calls.length} calls in 300 ms`);
});

test('a wake-up that throws does not end the watch', async () => {
  let resolveNext = (): void => {};
  const { p } = provider(() => new Promise<void>((r) => (resolveNext = r)));
  let wakes = 0;
  const w = new EvidenceWatch(() => {
    wakes++;
    throw new Error('controller busy');
  }, 1);
  w.sync(p, '2');
  resolveNext();
  await sleep(20);
  resolveNext();
  await sleep(20);
  w.stop();
  assert.equal(wakes, 2);
});
