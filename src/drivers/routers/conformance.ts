/**
 * The router contract suite: what every Router driver must do, checked with real upstream HTTP
 * servers and real traffic through the router's data plane. A driver's test calls
 * `routerConformance(name, makeRouter, skips)`; cases it cannot meet are skipped by name, with the
 * reason shown in the test report.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { HeaderRoute, RouteTable, Router } from './types.ts';
import type { MetricsProvider } from '../metrics/types.ts';
import { freePort, keepAliveClient, load, loadWhile, startUpstream, tally } from './upstreams.ts';

export interface RouterUnderTest {
  router: Router;
  /** Where the data plane serves traffic, e.g. http://127.0.0.1:41234 */
  listenUrl: string;
  /** The metrics provider that reads this router's data plane, for the error-counting case. */
  metrics?: MetricsProvider;
  /**
   * Set (to the reason) when a weight change reloads the proxy, which closes idle keep-alive
   * connections: the under-load case then retries a GET once when a reused connection is reset
   * before any answer (RFC 9112 §9.3.1), and reports how many were retried.
   */
  retryResetConnections?: string;
}

/** Makes a fresh router (and data plane) for one case; registers its own cleanup on `t`. */
export type MakeRouter = (t: TestContext) => Promise<RouterUnderTest>;

export const ROUTER_CASES = [
  'apply and read round-trip',
  'weights 100/0 route everything to one backend',
  '90/10 split within tolerance',
  'sticky header keeps users on their backend as weight grows 10 → 50',
  're-apply is idempotent',
  'weight changes under load lose no request',
  'a down backend: the other still serves',
  'a down backend: its errors are counted for it',
  'a header route sends its cohort to its backend whatever the weights',
  'a cookie route sends its cohort to its backend',
  'a header route wins over stickiness',
  'removing a route returns its cohort to the weights',
] as const;
export type RouterCase = (typeof ROUTER_CASES)[number];

const table = (
  weights: Array<[key: string, weight: number, url: string]>,
  sticky?: string,
  routes?: HeaderRoute[],
): RouteTable => ({
  backends: weights.map(([key, weight, url]) => ({ key, version: `v${key}`, weight, endpoints: [url] })),
  ...(sticky === undefined ? {} : { stickiness: { header: sticky } }),
  ...(routes === undefined ? {} : { routes }),
});

const headerRoute = (key: string, header: string, value: string): HeaderRoute => ({ key, match: { header, value } });

async function twoUpstreams(t: TestContext) {
  return Promise.all([startUpstream(t, 'canary'), startUpstream(t, 'stable')]);
}

const cases: Record<RouterCase, (t: TestContext, make: MakeRouter) => Promise<void>> = {
  async 'apply and read round-trip'(t, make) {
    const [canary, stable] = await twoUpstreams(t);
    const { router } = await make(t);
    assert.equal(await router.read(), null, 'a new router has no table');
    const applied = table([
      ['2', 10, canary.url],
      ['1', 90, stable.url],
    ]);
    await router.apply(applied);
    assert.deepEqual(await router.read(), applied);
  },

  async 'weights 100/0 route everything to one backend'(t, make) {
    const [canary, stable] = await twoUpstreams(t);
    const { router, listenUrl } = await make(t);
    const agent = keepAliveClient(t);
    await router.apply(
      table([
        ['2', 0, canary.url],
        ['1', 100, stable.url],
      ]),
    );
    assert.deepEqual(tally(await load(listenUrl, agent, 200, 8)), { stable: 200 });
    await router.apply(
      table([
        ['2', 100, canary.url],
        ['1', 0, stable.url],
      ]),
    );
    assert.deepEqual(tally(await load(listenUrl, agent, 200, 8)), { canary: 200 });
  },

  async '90/10 split within tolerance'(t, make) {
    const [canary, stable] = await twoUpstreams(t);
    const { router, listenUrl } = await make(t);
    await router.apply(
      table([
        ['2', 10, canary.url],
        ['1', 90, stable.url],
      ]),
    );
    const counts = tally(await load(listenUrl, keepAliveClient(t), 1000, 16));
    assert.equal((counts.canary ?? 0) + (counts.stable ?? 0), 1000, `all answered 200: ${JSON.stringify(counts)}`);
    assert.ok(Math.abs((counts.canary ?? 0) - 100) <= 30, `canary got ${counts.canary} of 1000 at 10%`);
  },

  async 'sticky header keeps users on their backend as weight grows 10 → 50'(t, make) {
    const [canary, stable] = await twoUpstreams(t);
    const { router, listenUrl } = await make(t);
    const agent = keepAliveClient(t);
    const users = 500;
    const asUser = (i: number) => ({ 'x-user': `user-${i % users}` });
    await router.apply(
      table(
        [
          ['2', 10, canary.url],
          ['1', 90, stable.url],
        ],
        'x-user',
      ),
    );
    const at10 = await load(listenUrl, agent, users * 2, 16, asUser);
    for (let i = 0; i < users; i++)
      assert.equal(at10[i]!.body, at10[i + users]!.body, `user-${i} changed backend at 10%`);
    const onCanary = at10.slice(0, users).filter((a) => a.body === 'canary').length;
    assert.ok(onCanary >= 25 && onCanary <= 80, `${onCanary} of ${users} users on the canary at 10%`);

    await router.apply(
      table(
        [
          ['2', 50, canary.url],
          ['1', 50, stable.url],
        ],
        'x-user',
      ),
    );
    const at50 = await load(listenUrl, agent, users, 16, asUser);
    for (let i = 0; i < users; i++) {
      if (at10[i]!.body === 'canary') assert.equal(at50[i]!.body, 'canary', `user-${i} left the canary at 50%`);
    }
    const onCanary50 = at50.filter((a) => a.body === 'canary').length;
    assert.ok(onCanary50 >= 200 && onCanary50 <= 300, `${onCanary50} of ${users} users on the canary at 50%`);
  },

  async 're-apply is idempotent'(t, make) {
    const [canary, stable] = await twoUpstreams(t);
    const { router, listenUrl } = await make(t);
    const applied = table([
      ['2', 10, canary.url],
      ['1', 90, stable.url],
    ]);
    for (let i = 0; i < 3; i++) await router.apply(applied);
    assert.deepEqual(await router.read(), applied);
    const counts = tally(await load(listenUrl, keepAliveClient(t), 500, 8));
    assert.equal((counts.canary ?? 0) + (counts.stable ?? 0), 500, JSON.stringify(counts));
    assert.ok(Math.abs((counts.canary ?? 0) - 50) <= 15, `canary got ${counts.canary} of 500 at 10%`);
  },

  async 'weight changes under load lose no request'(t, make) {
    const [canary, stable] = await twoUpstreams(t);
    const { router, listenUrl, retryResetConnections } = await make(t);
    await router.apply(
      table([
        ['2', 0, canary.url],
        ['1', 100, stable.url],
      ]),
    );
    // Load runs until 20 changes are done and at least 1000 requests answered.
    let changes = 0;
    let failed = false;
    const answeredAt: number[] = [];
    let answered = 0;
    const keepGoing = (n: number) => {
      answered = n;
      return !failed && (changes < 20 || n < 1000);
    };
    const running = loadWhile(listenUrl, keepAliveClient(t), 32, keepGoing, retryResetConnections !== undefined);
    const steps = [1, 10, 25, 50, 75, 100, 50, 10, 0, 5];
    try {
      while (changes < 20) {
        const w = steps[changes % steps.length]!;
        await router.apply(
          table([
            ['2', w, canary.url],
            ['1', 100 - w, stable.url],
          ]),
        );
        answeredAt.push(answered);
        changes++;
      }
    } catch (err) {
      failed = true;
      await running;
      throw err;
    }
    const answers = await running;
    const counts = tally(answers);
    const retried = answers.filter((a) => a.retried).length;
    t.diagnostic(`20 weight changes during ${answers.length} requests: ${JSON.stringify(counts)}, ${retried} retried`);
    if (retryResetConnections !== undefined)
      t.diagnostic(`retrying reset reused connections: ${retryResetConnections}`);
    assert.ok(answeredAt[19]! - answeredAt[0]! >= 20, `requests flowed between the changes: ${answeredAt.join(', ')}`);
    assert.equal(
      (counts.canary ?? 0) + (counts.stable ?? 0),
      answers.length,
      `every request answered 200: ${JSON.stringify(counts)}`,
    );
    assert.ok((counts.canary ?? 0) > 0, 'the canary got traffic while its weight moved');
  },

  async 'a down backend: the other still serves'(t, make) {
    const stable = await startUpstream(t, 'stable');
    const down = `http://127.0.0.1:${await freePort()}`;
    const { router, listenUrl } = await make(t);
    await router.apply(
      table([
        ['2', 50, down],
        ['1', 50, stable.url],
      ]),
    );
    const counts = tally(await load(listenUrl, keepAliveClient(t), 200, 8));
    assert.ok((counts.stable ?? 0) >= 100, `stable answered ${counts.stable} of 200: ${JSON.stringify(counts)}`);
    for (const k of Object.keys(counts))
      assert.ok(k === 'stable' || k === 'status:502' || k === 'status:503', `unexpected ${k}`);
  },

  async 'a down backend: its errors are counted for it'(t, make) {
    const stable = await startUpstream(t, 'stable');
    const down = `http://127.0.0.1:${await freePort()}`;
    const { router, listenUrl, metrics } = await make(t);
    if (metrics === undefined) return t.skip('no metrics provider paired with this router');
    await router.apply(
      table([
        ['2', 50, down],
        ['1', 50, stable.url],
      ]),
    );
    await load(listenUrl, keepAliveClient(t), 200, 8);
    const m = await metrics.collect(['1', '2'], 60_000);
    assert.equal(m['2']?.kind, 'stats', JSON.stringify(m['2']));
    assert.equal(m['1']?.kind, 'stats', JSON.stringify(m['1']));
    if (m['2']?.kind !== 'stats' || m['1']?.kind !== 'stats') return;
    assert.ok(m['2'].stats.errors >= 50, `down backend counted ${m['2'].stats.errors} errors for ~100 attempts`);
    assert.equal(m['1'].stats.errors, 0, 'the healthy backend has no errors');
    assert.ok(m['1'].stats.requests >= 100, `healthy backend counted ${m['1'].stats.requests} requests`);
  },

  async 'a header route sends its cohort to its backend whatever the weights'(t, make) {
    const [canary, stable] = await twoUpstreams(t);
    const { router, listenUrl } = await make(t);
    const agent = keepAliveClient(t);
    const applied = table(
      [
        ['2', 0, canary.url],
        ['1', 100, stable.url],
      ],
      undefined,
      [headerRoute('2', 'x-cohort', 'beta')],
    );
    await router.apply(applied);
    assert.deepEqual(await router.read(), applied, 'routes read back as applied');
    assert.deepEqual(tally(await load(listenUrl, agent, 100, 8, () => ({ 'x-cohort': 'beta' }))), { canary: 100 });
    assert.deepEqual(tally(await load(listenUrl, agent, 100, 8)), { stable: 100 }, 'no header: by weight');
    assert.deepEqual(
      tally(await load(listenUrl, agent, 50, 8, () => ({ 'x-cohort': 'gamma' }))),
      { stable: 50 },
      'other value',
    );
    assert.deepEqual(
      tally(await load(listenUrl, agent, 50, 8, () => ({ 'x-cohort': 'BETA' }))),
      { stable: 50 },
      'values match exactly',
    );
  },

  async 'a cookie route sends its cohort to its backend'(t, make) {
    const [canary, stable] = await twoUpstreams(t);
    const { router, listenUrl } = await make(t);
    const agent = keepAliveClient(t);
    const routes: HeaderRoute[] = [{ key: '2', match: { cookie: 'cohort', value: 'beta' } }];
    await router.apply(
      table(
        [
          ['2', 0, canary.url],
          ['1', 100, stable.url],
        ],
        undefined,
        routes,
      ),
    );
    const withCookie = (cookie: string) => () => ({ cookie });
    assert.deepEqual(tally(await load(listenUrl, agent, 100, 8, withCookie('session=s1; cohort=beta'))), {
      canary: 100,
    });
    assert.deepEqual(tally(await load(listenUrl, agent, 50, 8, withCookie('cohort=beta'))), { canary: 50 });
    assert.deepEqual(tally(await load(listenUrl, agent, 50, 8, withCookie('cohort=alpha; x=beta'))), { stable: 50 });
    assert.deepEqual(tally(await load(listenUrl, agent, 50, 8)), { stable: 50 });
  },

  async 'a header route wins over stickiness'(t, make) {
    const [canary, stable] = await twoUpstreams(t);
    const { router, listenUrl } = await make(t);
    const agent = keepAliveClient(t);
    await router.apply(
      table(
        [
          ['2', 50, canary.url],
          ['1', 50, stable.url],
        ],
        'x-user',
        [headerRoute('1', 'x-cohort', 'internal')],
      ),
    );
    const asUser = (i: number) => ({ 'x-user': `user-${i}` });
    const free = tally(await load(listenUrl, agent, 200, 8, asUser));
    assert.ok(
      (free.canary ?? 0) > 0 && (free.stable ?? 0) > 0,
      `sticky users spread over both: ${JSON.stringify(free)}`,
    );
    const routed = await load(listenUrl, agent, 200, 8, (i) => ({ ...asUser(i), 'x-cohort': 'internal' }));
    assert.deepEqual(tally(routed), { stable: 200 });
  },

  async 'removing a route returns its cohort to the weights'(t, make) {
    const [canary, stable] = await twoUpstreams(t);
    const { router, listenUrl } = await make(t);
    const agent = keepAliveClient(t);
    const beta = () => ({ 'x-cohort': 'beta' });
    await router.apply(
      table(
        [
          ['2', 0, canary.url],
          ['1', 100, stable.url],
        ],
        undefined,
        [headerRoute('2', 'x-cohort', 'beta')],
      ),
    );
    assert.deepEqual(tally(await load(listenUrl, agent, 50, 8, beta)), { canary: 50 });
    const without = table([
      ['2', 0, canary.url],
      ['1', 100, stable.url],
    ]);
    await router.apply(without);
    assert.deepEqual(await router.read(), without);
    assert.deepEqual(tally(await load(listenUrl, agent, 50, 8, beta)), { stable: 50 });
  },
};

export function routerConformance(
  name: string,
  makeRouter: MakeRouter,
  skips: Partial<Record<RouterCase, string>> = {},
): void {
  describe(`router contract: ${name}`, () => {
    for (const title of ROUTER_CASES) {
      const reason = skips[title];
      if (reason !== undefined) test(title, { skip: reason }, () => {});
      else test(title, { timeout: 60_000 }, (t) => cases[title](t, makeRouter));
    }
  });
}
