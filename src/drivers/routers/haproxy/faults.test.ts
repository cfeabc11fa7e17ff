/**
 * Drills' faults through a managed haproxy's runtime API, against a real HAProxy with real HTTP
 * traffic: the share and the status, the hits read back, no reload, the TTL held by haproxy's own
 * clock with the controller SIGKILLed, removal under load, what the access-log metrics see, and
 * the faults haproxy cannot inject refused by name. Latency, reset and cohort faults (the Lua
 * script's): fault-kinds.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { withoutServer } from '../../../../test/support/servers.ts';
import type { FaultRule } from '../../../core/drills/fault.ts';
import { keepAliveClient, load, startUpstream, tally } from '../upstreams.ts';
import { faultRule, setupFaults, timedLoad } from './fault-harness.ts';
import { haproxyRouter } from './index.ts';

describe('drill faults through haproxy (runtime API, no reload)', { skip: withoutServer('haproxy', 'haproxy') }, () => {
  const setup = setupFaults;
  const rule = faultRule;

  test('100% 503 on the canary: every canary request answers 503 (the load generator and the access-log metrics see it), stable untouched, hits read back, no reload; removal ends it', async (t) => {
    const { faults, metrics, listenUrl, worker } = await setup(t, true);
    const before = await worker();
    const set = await faults.set([rule()]);
    assert.deepEqual(
      set.map((f) => [f.id, f.key, f.effect, f.percent, f.hits]),
      [['drill/1/0.0', '2', { kind: 'error', status: 503 }, 100, 0]],
    );
    const answers = await load(listenUrl, keepAliveClient(t), 400, 8);
    const counts = tally(answers);
    t.diagnostic(`400 requests at 50/50 with 100% 503 on the canary: ${JSON.stringify(counts)}`);
    assert.equal(counts.canary, undefined, 'no canary answer got through');
    assert.ok((counts['status:503'] ?? 0) >= 150 && (counts.stable ?? 0) >= 150, JSON.stringify(counts));
    assert.equal((counts['status:503'] ?? 0) + (counts.stable ?? 0), 400);
    const [listed] = await faults.list();
    assert.equal(listed?.hits, counts['status:503'], 'haproxy counted every hit');
    assert.ok(listed!.firstHitAt !== null && listed!.lastHitAt! >= listed!.firstHitAt, JSON.stringify(listed));
    assert.ok(
      Math.abs(listed!.lastHitAt! - Date.now()) < 5000,
      `last hit ${listed!.lastHitAt! - Date.now()} ms from now`,
    );
    // The access-log provider counts them as the canary's 503s.
    let m = await metrics!.collect(['2', '1'], 60_000);
    for (let i = 0; i < 30 && (m['2']?.kind !== 'stats' || m['2'].stats.errors < counts['status:503']!); i++) {
      await sleep(100);
      m = await metrics!.collect(['2', '1'], 60_000);
    }
    assert.equal(m['2']?.kind, 'stats', JSON.stringify(m['2']));
    if (m['2']?.kind === 'stats' && m['1']?.kind === 'stats') {
      t.diagnostic(
        `access-log metrics: canary ${JSON.stringify(m['2'].stats.statuses)}, stable ${JSON.stringify(m['1'].stats.statuses)}`,
      );
      assert.equal(m['2'].stats.statuses?.['503'], counts['status:503']);
      assert.equal(m['2'].stats.errors, counts['status:503']);
      assert.equal(m['1'].stats.errors, 0);
    }
    const removed = await faults.clear();
    assert.deepEqual(
      removed.map((f) => [f.id, f.hits]),
      [['drill/1/0.0', counts['status:503']]],
    );
    assert.deepEqual(await faults.list(), []);
    const after = tally(await load(listenUrl, keepAliveClient(t), 100, 8));
    assert.equal(after['status:503'], undefined, JSON.stringify(after));
    assert.equal(await worker(), before, 'the same worker served throughout: no reload');
  });

  test('a share: 30% of the canary requests, by haproxy rand()', async (t) => {
    const { router, faults, listenUrl, table } = await setup(t);
    await router.apply(table(100));
    await faults.set([rule({ percent: 30 })]);
    const counts = tally(await load(listenUrl, keepAliveClient(t), 1000, 8));
    t.diagnostic(`1000 canary requests with a 30% 503 fault: ${JSON.stringify(counts)}`);
    // Binomial(1000, 0.3): sd 14.5; ±60 is beyond 4 sd.
    assert.ok(Math.abs((counts['status:503'] ?? 0) - 300) <= 60, JSON.stringify(counts));
  });

  test("the TTL is held by haproxy: the controller that set the fault is SIGKILLed, and the fault ends at its TTL by haproxy's clock", async (t) => {
    const { dir, config, listenUrl } = await setup(t);
    const ttlMs = 1500;
    const child = spawn(
      process.execPath,
      [
        fileURLToPath(new URL('../fixtures/fault-controller.ts', import.meta.url)),
        dir,
        JSON.stringify(config),
        JSON.stringify(rule({ ttlMs })),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    t.after(() => child.kill('SIGKILL'));
    await once(child.stdout, 'data');
    const setAt = Date.now();
    child.kill('SIGKILL');
    await once(child, 'exit');
    const answers = await timedLoad(
      listenUrl,
      new http.Agent({ keepAlive: true }),
      () => Date.now() > setAt + ttlMs + 1500,
    );
    const faulted = answers.filter((a) => a.status === 503);
    const lastFaulted = Math.max(...faulted.map((a) => a.at));
    const canaryAfter = answers.filter((a) => a.body === 'canary' && a.at > lastFaulted);
    t.diagnostic(
      `${faulted.length} 503s; the last ${lastFaulted - setAt} ms after the fault was set (TTL ${ttlMs} ms); then ${canaryAfter.length} canary answers`,
    );
    assert.ok(faulted.length > 0, 'the fault was injected while its controller was dead');
    assert.ok(lastFaulted - setAt <= ttlMs + 100, `a 503 came ${lastFaulted - setAt} ms after the fault was set`);
    assert.ok(canaryAfter.length > 0, 'the canary answers again after the TTL');
    assert.equal(answers.filter((a) => a.at > setAt + ttlMs + 100 && a.status !== 200).length, 0);
  });

  test('removal under load: the last faulted answer comes within 1 s of clear()', async (t) => {
    const { faults, listenUrl } = await setup(t);
    await faults.set([rule()]);
    let clearedAt = Infinity;
    let stopAt = Infinity;
    const running = timedLoad(listenUrl, new http.Agent({ keepAlive: true }), () => Date.now() > stopAt);
    await sleep(300);
    clearedAt = Date.now();
    await faults.clear(['drill/1/0.0']);
    const clearedBy = Date.now();
    stopAt = clearedBy + 700;
    const answers = await running;
    const lastFaulted = Math.max(...answers.filter((a) => a.status === 503).map((a) => a.at));
    t.diagnostic(
      `clear() took ${clearedBy - clearedAt} ms; last 503 ${lastFaulted - clearedAt} ms after clear() began; ${answers.length} answers`,
    );
    assert.ok(
      answers.some((a) => a.status === 503 && a.at < clearedAt),
      'faulted before',
    );
    assert.ok(lastFaulted - clearedAt < 1000, `last 503 ${lastFaulted - clearedAt} ms after clear()`);
    assert.ok(
      answers.some((a) => a.body === 'canary' && a.at > clearedBy),
      'the canary answers after',
    );
  });

  test('a fault follows its revision when a table change moves it to another server slot', async (t) => {
    const { router, faults, listenUrl, table, canary } = await setup(t);
    await faults.set([rule()]);
    const third = await startUpstream(t, 'canary');
    const base = table(50);
    // The canary gets a second endpoint (on a free slot), then loses its first: its fault must follow it.
    await router.apply({
      ...base,
      backends: [{ ...base.backends[0]!, endpoints: [canary.url, third.url] }, base.backends[1]!],
    });
    await router.apply({ ...base, backends: [{ ...base.backends[0]!, endpoints: [third.url] }, base.backends[1]!] });
    await sleep(300);
    const counts = tally(await load(listenUrl, keepAliveClient(t), 200, 8));
    assert.equal(counts.canary, undefined, `the moved canary is still faulted: ${JSON.stringify(counts)}`);
  });

  test('what haproxy cannot inject is refused by name, before anything is set; external mode has no faults', async (t) => {
    const { faults } = await setup(t);
    const cases: Array<[Partial<FaultRule>, RegExp]> = [
      [
        { effect: { kind: 'abort' } },
        /cut-body \(abort\) fault cannot be injected by haproxy: only a Lua service .* before haproxy picks the server/,
      ],
      [{ key: '*', effect: { kind: 'metricsOutage' } }, /a metrics outage takes the built-in proxy's metrics API down/],
      [{ effect: { kind: 'error', status: 418 } }, /haproxy injects errors with one of 400, 401, .* 503, 504; got 418/],
      [
        { cohort: { cookie: "a'b" } },
        /a cohort's header or cookie name must be letters, digits and _ \. - behind haproxy; got "a'b"/,
      ],
    ];
    // Latency, resets and cohorts are injected (fault-kinds.test.ts).
    for (const over of [
      { effect: { kind: 'latency', ms: 500 } },
      { effect: { kind: 'reset' } },
      { cohort: { header: 'x-user' } },
    ] as const)
      assert.equal(faults.refusal!(rule(over)), null, JSON.stringify(over));
    for (const [over, message] of cases) {
      assert.match(faults.refusal!(rule(over)) ?? '', message);
      await assert.rejects(faults.set([rule(over)]), message);
    }
    assert.deepEqual(await faults.list(), [], 'nothing was set');
    await assert.rejects(
      faults.set([rule(), rule({ id: 'drill/1/0.1', effect: { kind: 'error', status: 500 } })]),
      /revision 2 already has fault drill\/1\/0\.\d; behind haproxy a revision takes one fault at a time/,
    );
    const external = haproxyRouter.create(
      haproxyRouter.config.parse({ driver: 'haproxy', adminSocket: '/nonexistent.sock', backend: 'app' }),
      { service: 'x', serviceDir: '/nonexistent', log: () => {} },
    );
    assert.equal(external.faults, undefined);
  });
});
