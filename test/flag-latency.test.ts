/**
 * Latency rules on flag variants, with real traffic through the built-in proxy. The example
 * service adds 150 ms only to requests carrying `x-sluice-flag-slow-checkout: on`. Two flags on
 * the same proxy and the same requests: slow-checkout (its "on" slow) is turned off by its
 * latency rule, with the rule and figures in the rollback log; fast-search (its variants equally
 * fast: each sees the same mix of slow and fast requests) stays on. A third run: with
 * `onFail: pause` a failing ramp is frozen at its percent, stays on, and a person's set resumes it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deployedServer, type SluiceServer } from './support/sluice.ts';

const flag = (name: string, rule: string, extra = '') => `apiVersion: sluice.dev/v1alpha1
kind: FeatureFlag
metadata: { name: ${name} }
spec:
  environments:
    production:
      rules:
        - name: ramp
          ${rule}
          serve: "on"
  rollbackContract:
    service: checkout
    environment: production
    stickiness: { header: x-user-id }
    latency:
      - { metric: latency_p95, failIf: { above: baseline, by: 50ms } }
${extra}`;

interface FlagEvent {
  type: string;
  actor: string;
  rule?: string | null;
  log?: { trigger: string; detail: string; percent: number | null; figures: Record<string, number | string | null> };
}

interface FlagView {
  environments: {
    production: {
      enabled: boolean;
      paused: { trigger: string } | null;
      rules: { rollout?: { percent: number }; ramp?: unknown; percentNow: number }[];
    };
  };
}

const SLOW = { EXTRA_LATENCY_MS: '150', SLOW_WHEN_HEADER: 'x-sluice-flag-slow-checkout: on' };

function traffic(listenPort: number) {
  let user = 0;
  const tally = { requests: 0, slowOn: 0 };
  const hit = async () => {
    const res = await fetch(`http://127.0.0.1:${listenPort}/`, { headers: { 'x-user-id': `user-${user++}` } });
    await res.arrayBuffer();
    tally.requests++;
  };
  return { tally, burst: () => Promise.all(Array.from({ length: 20 }, hit)) };
}

const view = async (server: SluiceServer, name: string) =>
  (await server.api<FlagView>('GET', `/api/flags/${name}`)).body.environments.production;
const events = async (server: SluiceServer, name: string) =>
  (await server.api<{ events: FlagEvent[] }>('GET', `/api/flags/${name}/events`)).body.events;

test(
  'a flag whose "on" is 150 ms slower is turned off by its latency rule; equally fast variants under the same traffic stay on',
  { timeout: 180_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t, { instances: 1, env: SLOW });
    await server.apply(flag('slow-checkout', 'rollout: { percent: 50 }'));
    await server.apply(flag('fast-search', 'rollout: { percent: 50 }'));
    const { tally, burst } = traffic(listenPort);

    const started = Date.now();
    while ((await view(server, 'slow-checkout')).enabled) {
      assert.ok(
        Date.now() - started < 60_000,
        `not turned off after 60 s; ${tally.requests} requests\n${server.log.slice(-3000)}`,
      );
      await burst();
    }
    const offAfter = tally.requests;
    const rolled = (await events(server, 'slow-checkout')).find((e) => e.type === 'flag.rolledBack');
    assert.ok(rolled?.log, 'a rollback log');
    t.diagnostic(`rollback log after ${offAfter} requests: ${JSON.stringify(rolled.log)}`);
    assert.equal(rolled.actor, 'sluice-controller');
    assert.equal(rolled.log.trigger, 'latency_p95: on above off + 50.0ms');
    assert.equal(rolled.log.percent, 50);
    assert.equal(rolled.log.figures.rule, 'ramp');
    assert.ok(Number(rolled.log.figures.quantileMs) >= 150, 'on: at least the 150 ms the service adds');
    assert.ok(Number(rolled.log.figures.offQuantileMs) < 100, 'off: not slowed');
    assert.ok(Number(rolled.log.figures.eValue) >= Number(rolled.log.figures.eThreshold), 'Fail on evidence');

    // The same traffic goes on, now without slow requests: three times as many again as it took.
    while (tally.requests < offAfter * 4) await burst();
    const fast = await view(server, 'fast-search');
    const fastEvents = await events(server, 'fast-search');
    t.diagnostic(`fast-search after ${tally.requests} requests: ${JSON.stringify(fastEvents.map((e) => e.type))}`);
    assert.equal(fast.enabled, true, 'equally fast variants are not rolled back');
    assert.deepEqual(
      fastEvents.filter((e) => e.type !== 'flag.applied'),
      [],
    );
  },
);

test(
  'with onFail: pause a slow ramp is frozen at its percent and stays on; resume goes on from where it froze',
  { timeout: 180_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t, { instances: 1, env: SLOW });
    const start = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const end = new Date(Date.now() + 540_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await server.apply(
      flag('slow-checkout', `ramp: { from: 30, to: 100, start: "${start}", end: "${end}" }`, '    onFail: pause\n'),
    );
    const { tally, burst } = traffic(listenPort);
    const started = Date.now();
    while ((await view(server, 'slow-checkout')).paused === null) {
      assert.ok(Date.now() - started < 60_000, `not paused after 60 s; ${tally.requests} requests`);
      await burst();
    }
    const paused = (await events(server, 'slow-checkout')).find((e) => e.type === 'flag.paused');
    assert.ok(paused?.log);
    t.diagnostic(`pause log after ${tally.requests} requests: ${JSON.stringify(paused.log)}`);
    assert.equal(paused.actor, 'sluice-controller');
    assert.equal(paused.rule, 'ramp');
    assert.equal(paused.log.trigger, 'latency_p95: on above off + 50.0ms');
    const percent = paused.log.percent!;
    assert.ok(percent >= 30 && percent < 100, `paused mid-ramp, at ${percent}%`);

    // Held: still on, at the frozen percent, and not judged again (no second event) however slow "on" is.
    for (let i = 0; i < 30; i++) await burst();
    const held = await view(server, 'slow-checkout');
    assert.equal(held.enabled, true);
    assert.equal(held.rules[0]?.rollout?.percent, percent);
    assert.deepEqual(
      (await events(server, 'slow-checkout')).map((e) => e.type),
      ['flag.applied', 'flag.paused'],
    );

    const resume = await server.api('POST', '/api/flags/slow-checkout/resume', { environment: 'production' });
    assert.equal(resume.status, 200, JSON.stringify(resume.body));
    const resumed = await view(server, 'slow-checkout');
    assert.equal(resumed.paused, null, 'a person resuming it ends the hold');
    assert.equal(resumed.rules[0]?.rollout, undefined);
    assert.ok(resumed.rules[0]?.ramp, 'the ramp again');
    const now = resumed.rules[0]?.percentNow ?? -1;
    assert.ok(now >= percent && now <= percent + 2, `goes on from ${percent}%, not from its old schedule: ${now}%`);
    const again = await server.api('POST', '/api/flags/slow-checkout/resume', { environment: 'production' });
    assert.equal(again.status, 409, 'nothing to resume');
  },
);
