/**
 * Latency, reset and cohort faults through a managed haproxy (the Lua script fault-script.ts acts
 * on what the config's rules pick from the runtime map), against a real HAProxy with real HTTP
 * traffic: what the client sees on the faulted revision and not on the other, the share, the same
 * users on every request, the TTL held by haproxy's clock with the controller SIGKILLed, and the
 * safety lever.
 */
import assert from 'node:assert/strict';
import { stickyPoint } from '../../../core/sticky-hash.ts';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { join } from 'node:path';
import { type TestContext, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withoutServer } from '../../../../test/support/servers.ts';
import { quantile } from '../../../core/analysis/histogram.ts';
import { keepAliveClient } from '../upstreams.ts';
import { type TimedAnswer, faultRule as rule, setupFaults, timedLoad, timedRequest } from './fault-harness.ts';
import { showMap } from './runtime-api.ts';

/** `total` requests, `concurrency` at a time, each with the headers `headersOf(i)` gives. */
async function timedMany(
  url: string,
  agent: http.Agent,
  total: number,
  concurrency: number,
  headersOf: (i: number) => Record<string, string> = () => ({}),
): Promise<TimedAnswer[]> {
  const out = new Array<TimedAnswer>(total);
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      out[i] = await timedRequest(url, agent, headersOf(i));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

const isReset = (a: TimedAnswer) => a.status === 0 && /ECONNRESET|socket hang up/.test(a.body);
const faultMapOf = (dir: string) => join(dir, 'router', 'haproxy', 'faults.map');

async function metricsOf(t: TestContext, setup: Awaited<ReturnType<typeof setupFaults>>, requests: number) {
  let m = await setup.metrics!.collect(['2', '1'], 60_000);
  const seen = () =>
    (m['2']?.kind === 'stats' ? m['2'].stats.requests : 0) + (m['1']?.kind === 'stats' ? m['1'].stats.requests : 0);
  for (let i = 0; i < 30 && seen() < requests; i++) {
    await new Promise((r) => setTimeout(r, 100));
    m = await setup.metrics!.collect(['2', '1'], 60_000);
  }
  const [canary, stable] = [m['2'], m['1']];
  assert.ok(canary?.kind === 'stats' && stable?.kind === 'stats', JSON.stringify(m));
  t.diagnostic(
    `access-log metrics: canary ${JSON.stringify(canary.stats.statuses)} p50 ${quantile(canary.stats.latency, 0.5)} ms, stable ${JSON.stringify(stable.stats.statuses)} p50 ${quantile(stable.stats.latency, 0.5)} ms`,
  );
  return { canary: canary.stats, stable: stable.stats };
}

describe(
  'latency, reset and cohort faults through haproxy (Lua, runtime map, no reload)',
  {
    skip: withoutServer('haproxy', 'haproxy'),
  },
  () => {
    test('latency: 300 ms on the canary at 50/50 is added to every canary answer and to no stable one; the access-log metrics see it; no reload', async (t) => {
      const s = await setupFaults(t, true);
      const before = await s.worker();
      const set = await s.faults.set([rule({ effect: { kind: 'latency', ms: 300 } })]);
      assert.deepEqual(
        set.map((f) => [f.id, f.effect, f.percent]),
        [['drill/1/0.0', { kind: 'latency', ms: 300 }, 100]],
      );
      const answers = await timedMany(s.listenUrl, keepAliveClient(t), 200, 20);
      assert.ok(
        answers.every((a) => a.status === 200),
        'every answer came',
      );
      const canary = answers.filter((a) => a.body === 'canary').map((a) => a.ms);
      const stable = answers.filter((a) => a.body === 'stable').map((a) => a.ms);
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      t.diagnostic(
        `canary ${canary.length} answers: min ${Math.min(...canary).toFixed(0)} ms, median ${median(canary).toFixed(0)} ms; stable ${stable.length}: median ${median(stable).toFixed(1)} ms, max ${Math.max(...stable).toFixed(0)} ms`,
      );
      assert.ok(canary.length >= 60 && stable.length >= 60, `${canary.length} canary, ${stable.length} stable`);
      // HAProxy's timers tick in whole milliseconds: a held answer can come a fraction of one early.
      assert.ok(Math.min(...canary) >= 299, `a canary answer took ${Math.min(...canary)} ms`);
      assert.ok(Math.max(...stable) < 300, `a stable answer took ${Math.max(...stable)} ms`);
      assert.ok(
        answers.every((a) => (a.body === 'canary') === (a.fault === 'drill/1/0.0')),
        'x-sluice-fault on the delayed answers only',
      );
      const [listed] = await s.faults.list();
      assert.equal(listed?.hits, canary.length, 'haproxy counted every delayed answer');
      const m = await metricsOf(t, s, 200);
      assert.equal(m.canary.errors, 0);
      assert.ok((quantile(m.canary.latency, 0.5) ?? 0) >= 250, 'the access-log line times the delay');
      assert.ok((quantile(m.stable.latency, 0.5) ?? Infinity) < 100);
      assert.equal(await s.worker(), before, 'no reload');
    });

    test('latency for a share: 50% of the canary requests are held 200 ms, the others are not', async (t) => {
      const s = await setupFaults(t);
      await s.router.apply(s.table(100));
      await s.faults.set([rule({ effect: { kind: 'latency', ms: 200 }, percent: 50 })]);
      const answers = await timedMany(s.listenUrl, keepAliveClient(t), 400, 40);
      const slow = answers.filter((a) => a.ms >= 199);
      t.diagnostic(`400 canary requests, 50% held 200 ms: ${slow.length} were held`);
      // Binomial(400, 0.5): sd 10; ±50 is 5 sd.
      assert.ok(Math.abs(slow.length - 200) <= 50, `${slow.length} slow`);
      assert.ok(
        answers.every((a) => a.ms >= 199 === (a.fault !== undefined)),
        'exactly the marked answers are slow',
      );
    });

    test("a latency fault's TTL is held by haproxy: the controller that set it is SIGKILLed, and no request is held after the TTL", async (t) => {
      const s = await setupFaults(t);
      const ttlMs = 1500;
      const child = spawn(
        process.execPath,
        [
          fileURLToPath(new URL('../fixtures/fault-controller.ts', import.meta.url)),
          s.dir,
          JSON.stringify(s.config),
          JSON.stringify(rule({ effect: { kind: 'latency', ms: 200 }, ttlMs })),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      t.after(() => child.kill('SIGKILL'));
      const said = await Promise.race([
        once(child.stdout, 'data').then(() => 'set'),
        once(child, 'exit').then(() => 'exited before it set the fault'),
      ]);
      assert.equal(said, 'set');
      const setAt = Date.now();
      child.kill('SIGKILL');
      await once(child, 'exit');
      const answers = await timedLoad(
        s.listenUrl,
        new http.Agent({ keepAlive: true }),
        () => Date.now() > setAt + ttlMs + 1500,
      );
      const started = (a: TimedAnswer) => a.at - a.ms;
      const held = answers.filter((a) => a.fault !== undefined);
      const lastHeld = Math.max(...held.map(started));
      const after = answers.filter((a) => started(a) > setAt + ttlMs + 100);
      t.diagnostic(
        `${held.length} held answers; the last request held started ${(lastHeld - setAt).toFixed(0)} ms after the fault was set (TTL ${ttlMs} ms); then ${after.filter((a) => a.body === 'canary').length} canary answers, slowest ${Math.max(...after.map((a) => a.ms)).toFixed(0)} ms`,
      );
      assert.ok(held.length > 0 && held.every((a) => a.ms >= 199), 'held while its controller was dead');
      assert.ok(
        lastHeld - setAt <= ttlMs + 100,
        `a request held started ${lastHeld - setAt} ms after the fault was set`,
      );
      assert.ok(after.some((a) => a.body === 'canary'));
      assert.ok(
        after.every((a) => a.status === 200 && a.ms < 200 && a.fault === undefined),
        'nothing held after the TTL',
      );
    });

    test('reset: every canary request at 50/50 fails with a closed connection and no answer, the stable answers; the access-log metrics count failed connections; a share resets about that share', async (t) => {
      const s = await setupFaults(t, true);
      await s.faults.set([rule({ effect: { kind: 'reset' } })]);
      const answers = await timedMany(s.listenUrl, keepAliveClient(t), 200, 8);
      const resets = answers.filter(isReset);
      const stable = answers.filter((a) => a.body === 'stable');
      t.diagnostic(
        `200 requests at 50/50, 100% reset on the canary: ${resets.length} connection errors (${[...new Set(resets.map((a) => a.body))].join(', ')}), ${stable.length} stable answers`,
      );
      assert.equal(answers.filter((a) => a.body === 'canary').length, 0, 'no canary answer got through');
      assert.equal(resets.length + stable.length, 200);
      assert.ok(resets.length >= 60 && stable.length >= 60, `${resets.length} resets, ${stable.length} stable`);
      const [listed] = await s.faults.list();
      assert.equal(listed?.hits, resets.length);
      const m = await metricsOf(t, s, 200);
      assert.equal(m.canary.statuses?.connect, resets.length, 'a reset is a failed connection of the canary');
      assert.equal(m.canary.errors, resets.length);
      assert.equal(m.stable.errors, 0);

      await s.faults.clear();
      await s.router.apply(s.table(100));
      await s.faults.set([rule({ id: 'drill/1/1.0', effect: { kind: 'reset' }, percent: 30 })]);
      const share = (await timedMany(s.listenUrl, keepAliveClient(t), 600, 8)).filter(isReset).length;
      t.diagnostic(`600 canary requests, 30% reset: ${share} connection errors`);
      // Binomial(600, 0.3): sd 11.2; ±56 is 5 sd.
      assert.ok(Math.abs(share - 180) <= 56, `${share} resets`);
    });

    test("cohort: the users whose x-user-id hashes below 30% (the built-in proxy's hash) get the fault on every request, the others never; a cookie cohort as well; one name at a time", async (t) => {
      const s = await setupFaults(t);
      await s.router.apply(s.table(100));
      await s.faults.set([rule({ percent: 30, cohort: { header: 'x-user-id' } })]);
      const users = Array.from({ length: 300 }, (_, i) => `user-${i}`);
      // Three rounds over every user.
      const answers = await timedMany(s.listenUrl, keepAliveClient(t), 900, 16, (i) => ({
        'x-user-id': users[i % 300]!,
      }));
      const faulted = new Set<string>();
      const inconsistent: string[] = [];
      users.forEach((u, j) => {
        const mine = [answers[j]!, answers[j + 300]!, answers[j + 600]!].map((a) => a.status === 503);
        if (mine.every(Boolean)) faulted.add(u);
        else if (mine.some(Boolean)) inconsistent.push(u);
      });
      const expected = users.filter((u) => stickyPoint(u) * 100 < 30);
      t.diagnostic(
        `300 users × 3 requests, 30% cohort: ${faulted.size} users faulted on every request (the built-in proxy's hash picks ${expected.length}), ${inconsistent.length} inconsistent`,
      );
      assert.deepEqual(inconsistent, [], 'a user is faulted on every request or on none');
      assert.deepEqual([...faulted].sort(), [...expected].sort(), 'the same users as the built-in proxy');
      assert.ok(faulted.size >= 60 && faulted.size <= 120, `${faulted.size} of 300 users`);
      const anonymous = await timedMany(s.listenUrl, keepAliveClient(t), 100, 8);
      assert.ok(
        anonymous.every((a) => a.body === 'canary'),
        'a request without the header is in no cohort',
      );

      // A second name while the first is held is refused by name; a cookie cohort after it is cleared.
      await assert.rejects(
        s.faults.set([rule({ id: 'drill/1/0.1', key: '1', percent: 30, cohort: { cookie: 'session' } })]),
        /cohort faults held at once behind haproxy hash one header or cookie; drill\/1\/0\.0 already hashes h=x-user-id/,
      );
      await s.faults.clear();
      assert.equal((await showMap(s.socket, faultMapOf(s.dir))).size, 0, 'the map is empty, ~cohort too');
      await s.faults.set([rule({ id: 'drill/1/1.0', percent: 50, cohort: { cookie: 'session' } })]);
      const byCookie = await timedMany(s.listenUrl, keepAliveClient(t), 200, 8, (i) => ({
        cookie: `theme=dark; session=${users[i]!}`,
      }));
      const cookieFaulted = users.slice(0, 200).filter((_, i) => byCookie[i]!.status === 503);
      t.diagnostic(`200 users by cookie, 50% cohort: ${cookieFaulted.length} faulted`);
      assert.deepEqual(
        cookieFaulted,
        users.slice(0, 200).filter((u) => stickyPoint(u) * 100 < 50),
      );
    });

    test('the safety lever: clear() ends a latency cohort fault and a reset fault under load at once, and leaves nothing in the map', async (t) => {
      const s = await setupFaults(t);
      await s.faults.set([
        rule({ effect: { kind: 'latency', ms: 100 }, cohort: { header: 'x-user-id' }, percent: 100 }),
        rule({ id: 'drill/1/0.1', key: '1', effect: { kind: 'reset' } }),
      ]);
      let stopAt = Infinity;
      const agent = new http.Agent({ keepAlive: true });
      const running: Array<Promise<TimedAnswer[]>> = Array.from({ length: 4 }, async () => {
        const out: TimedAnswer[] = [];
        while (Date.now() <= stopAt) out.push(await timedRequest(s.listenUrl, agent, { 'x-user-id': 'ann' }));
        return out;
      });
      await new Promise((r) => setTimeout(r, 500));
      const clearedAt = Date.now();
      const removed = await s.faults.clear();
      const clearedBy = Date.now();
      stopAt = clearedBy + 700;
      const answers = (await Promise.all(running)).flat();
      const faulted = answers.filter((a) => isReset(a) || a.fault !== undefined);
      const lastFaulted = Math.max(...faulted.map((a) => a.at - a.ms));
      t.diagnostic(
        `clear() took ${clearedBy - clearedAt} ms; removed ${removed.map((f) => `${f.id} (${f.hits} hits)`).join(', ')}; the last faulted request started ${(lastFaulted - clearedAt).toFixed(0)} ms after clear() began; ${answers.length} answers`,
      );
      assert.deepEqual(removed.map((f) => f.id).sort(), ['drill/1/0.0', 'drill/1/0.1']);
      assert.ok(
        removed.every((f) => f.hits > 0),
        'both were injected',
      );
      assert.ok(lastFaulted - clearedAt < 1000, `faulted ${lastFaulted - clearedAt} ms after clear()`);
      const after = answers.filter((a) => a.at - a.ms > clearedBy);
      assert.ok(after.length > 0 && after.every((a) => a.status === 200 && a.fault === undefined));
      assert.equal((await showMap(s.socket, faultMapOf(s.dir))).size, 0, 'no entry left, ~cohort included');
      assert.deepEqual(await s.faults.list(), []);
    });
  },
);
