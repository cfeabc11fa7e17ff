/**
 * A flag ramped under real traffic through the built-in proxy, with the "on" variant failing 10%
 * of its requests (the example service fails only requests carrying x-sluice-flag-new-checkout:
 * on), is turned off automatically by its own rollback contract; the rollback log names the
 * rule and the figures, and traffic after it gets "off" with no errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rampedFlag } from './support/flags.ts';
import { deployedServer } from './support/sluice.ts';

const FLAG = rampedFlag('stickiness: { header: x-user-id }');

interface FlagEvent {
  type: string;
  actor: string;
  log?: { trigger: string; detail: string; percent: number | null; figures: Record<string, number | string | null> };
}

test(
  'a failing flag is turned off by its contract, with the rule and figures in the rollback log',
  { timeout: 120_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t, {
      instances: 1,
      env: { FAIL_RATE: '0.1', FAIL_WHEN_HEADER: 'x-sluice-flag-new-checkout: on' },
    });
    await server.apply(FLAG);
    const base = `http://127.0.0.1:${listenPort}/`;
    let user = 0;
    const tally = { requests: 0, errors: 0 };
    const hit = async () => {
      const res = await fetch(base, { headers: { 'x-user-id': `user-${user++}` } });
      await res.arrayBuffer();
      tally.requests++;
      if (res.status >= 500) tally.errors++;
    };
    const disabled = async () =>
      (await server.api<{ environments: { production: { enabled: boolean } } }>('GET', '/api/flags/new-checkout')).body
        .environments.production.enabled === false;

    const started = Date.now();
    while (!(await disabled())) {
      assert.ok(
        Date.now() - started < 30_000,
        `not turned off after 30 s; ${tally.requests} requests, ${tally.errors} errors\n${server.log.slice(-3000)}`,
      );
      await Promise.all(Array.from({ length: 20 }, hit));
    }
    assert.ok(tally.errors > 0, 'the "on" variant failed some requests before the flag was turned off');

    const { body } = await server.api<{ events: FlagEvent[] }>('GET', '/api/flags/new-checkout/events');
    const rolled = body.events.find((e) => e.type === 'flag.rolledBack');
    assert.ok(rolled?.log, JSON.stringify(body.events));
    t.diagnostic(`rollback log: ${JSON.stringify(rolled.log)} after ${tally.requests} requests`);
    assert.equal(rolled.actor, 'sluice-controller');
    assert.match(rolled.log.trigger, /^errorRate: on above off × 1 \+ 0\.01$/);
    assert.equal(rolled.log.figures.rule, 'ramp');
    assert.equal(rolled.log.percent, 50);
    assert.ok(
      Number(rolled.log.figures.errors) > 0 && Number(rolled.log.figures.requests) > Number(rolled.log.figures.errors),
    );
    assert.equal(rolled.log.figures.offErrors, 0);
    assert.ok(
      Number(rolled.log.figures.lowerBound) > Number(rolled.log.figures.limit),
      'Fail on evidence: the lower bound of "on" is above the limit',
    );

    // The guard's per-variant series (the dashboard's charts): each variant's requests, and the Fail it turned off on.
    const { body: v } = await server.api<{
      series: {
        offVariant: string;
        at: number[];
        variants: { variant: string; requests: number[]; errors: number[]; outcome: (string | null)[] }[];
      } | null;
    }>('GET', '/api/flags/new-checkout/variants');
    assert.ok(v.series, 'the guard sampled the flag');
    assert.equal(v.series.offVariant, 'off');
    const on = v.series.variants.find((x) => x.variant === 'on');
    const off = v.series.variants.find((x) => x.variant === 'off');
    assert.ok(on && off, JSON.stringify(v.series));
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    assert.ok(sum(on.requests) > 0 && sum(off.requests) > 0, JSON.stringify(v.series));
    assert.ok(sum(on.errors) > 0 && sum(off.errors) === 0, JSON.stringify(v.series));
    assert.equal(on.outcome.at(-1), 'Fail', 'the last sample holds the verdict that turned the flag off');
    assert.ok(sum(on.requests) + sum(off.requests) <= tally.requests, 'no more requests than were sent');

    // The proxy is given the disabled flag within a tick or two: then every request gets "off".
    await new Promise((r) => setTimeout(r, 1000));
    const after = { ...tally };
    for (let i = 0; i < 10; i++) await Promise.all(Array.from({ length: 20 }, hit));
    assert.equal(tally.errors - after.errors, 0, 'no failures once the flag is off');
  },
);
