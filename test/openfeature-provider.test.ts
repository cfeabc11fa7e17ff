/**
 * The in-process provider (`sluice/openfeature`) against a real server: it evaluates locally
 * with the server's code, sees a change within a second, keeps serving its last set when Sluice
 * is down (STALE), is READY again when Sluice is back, and reports evaluations and tracked
 * request outcomes per variant.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OpenFeature, ProviderEvents, type EventDetails } from '@openfeature/server-sdk';
import { SluiceProvider } from 'sluice/openfeature';
import { SluiceServer } from './support/sluice.ts';

const FLAG = `apiVersion: sluice.dev/v1alpha1
kind: FeatureFlag
metadata: { name: new-checkout }
spec:
  environments:
    production:
      rules:
        - name: staff
          when: [{ attribute: email, operator: ENDS_WITH, values: ["@example.com"] }]
          serve: "on"
`;

async function until(check: () => boolean, what: string, ms: number): Promise<number> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
  return performance.now() - start;
}

test(
  'the in-process provider: local evaluation, a change seen within 1 s, the last set kept while Sluice is down',
  { timeout: 120_000 },
  async (t) => {
    const server = await SluiceServer.start();
    t.after(() => server.close());
    await server.apply(FLAG);
    const created = await server.api<{ token: string }>('POST', '/api/tokens', {
      role: 'sdk',
      environment: 'production',
      name: 'checkout-app',
    });
    const provider = new SluiceProvider({ url: server.url, token: created.body.token, reportIntervalMs: 200 });
    const seen: string[] = [];
    for (const e of [
      ProviderEvents.Ready,
      ProviderEvents.ConfigurationChanged,
      ProviderEvents.Stale,
      ProviderEvents.Error,
    ])
      OpenFeature.addHandler(e, () => seen.push(e));
    await OpenFeature.setProviderAndWait(provider);
    t.after(() => OpenFeature.close());
    const client = OpenFeature.getClient();
    const staff = { targetingKey: 'u-1', email: 'ann@example.com' };

    await t.test('evaluates as the server does', async () => {
      const d = await client.getBooleanDetails('new-checkout', false, staff);
      assert.deepEqual(
        [d.value, d.variant, d.reason, d.flagMetadata],
        [true, 'on', 'TARGETING_MATCH', { rule: 'staff' }],
      );
      assert.equal(await client.getBooleanValue('new-checkout', true, { targetingKey: 'u-2' }), false);
      assert.equal((await client.getBooleanDetails('nope', true, staff)).errorCode, 'FLAG_NOT_FOUND');
      assert.ok(seen.includes(ProviderEvents.Ready));
    });

    await t.test(
      'the kill switch reaches the provider within 1 s, with CONFIGURATION_CHANGED naming the flag',
      async () => {
        let changed: string[] = [];
        const onChange = (e?: EventDetails) => {
          changed = (e?.flagsChanged as string[] | undefined) ?? [];
        };
        OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, onChange);
        const r = await server.api('POST', '/api/flags/new-checkout/disable', {
          environment: 'production',
          reason: 'test',
        });
        assert.equal(r.status, 200);
        const ms = await until(
          () => provider.flagSet?.flags[0]?.environments.production?.enabled === false,
          'the disable',
          1000,
        );
        assert.ok(ms < 1000, `${ms} ms`);
        assert.equal((await client.getBooleanDetails('new-checkout', true, staff)).reason, 'DISABLED');
        await until(() => changed.includes('new-checkout'), 'CONFIGURATION_CHANGED', 1000);
        OpenFeature.removeHandler(ProviderEvents.ConfigurationChanged, onChange);
      },
    );

    await t.test('the hook reports evaluations per variant to Sluice', async () => {
      // The evaluations above: "on" for staff before the kill switch, "off" after it; reported every 200 ms.
      let reported: Record<string, Record<string, { evaluations: number }>> = {};
      for (
        let i = 0;
        i < 50 && ((reported.production?.on?.evaluations ?? 0) < 1 || (reported.production?.off?.evaluations ?? 0) < 1);
        i++
      ) {
        reported = (await server.api<{ reported: typeof reported }>('GET', '/api/flags/new-checkout')).body.reported;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok((reported.production?.on?.evaluations ?? 0) >= 1, JSON.stringify(reported));
      assert.ok((reported.production?.off?.evaluations ?? 0) >= 1, JSON.stringify(reported));
    });

    await t.test('tracked requests are reported as outcomes under the variant each flag serves', async () => {
      // The flag is off here (the kill switch above): both requests count under "off".
      client.track('request', staff, { value: 12, status: 503 });
      client.track('request', { targetingKey: 'u-2' }, { value: 5, status: 200 });
      client.track('checkout-completed', staff, { value: 40 }); // not the outcome event: not counted
      type Outcomes = Record<string, Record<string, { requests: number; errors: number; latency: object }>>;
      let outcomes: Outcomes = {};
      for (let i = 0; i < 30 && (outcomes.production?.off?.requests ?? 0) < 2; i++) {
        outcomes = (await server.api<{ outcomes: Outcomes }>('GET', '/api/flags/new-checkout')).body.outcomes;
        await new Promise((r) => setTimeout(r, 100));
      }
      const off = outcomes.production?.off;
      assert.equal(off?.requests, 2, JSON.stringify(outcomes));
      assert.equal(off.errors, 1);
      assert.equal(
        Object.values(off.latency as Record<string, number>).reduce((a, b) => a + b, 0),
        2,
      );
      assert.equal(outcomes.production?.on, undefined);

      const post = (body: unknown) =>
        fetch(`${server.url}/api/sdk/evaluations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${created.body.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
      const bad = await post({ outcomes: [{ flag: 'new-checkout', variant: 'on', requests: 2, errors: 3 }] });
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.match(JSON.stringify(bad.body), /outcomes\.0\.errors|3 errors of 2 requests/);
      const unknown = await post({
        outcomes: [
          { flag: 'no-such-flag', variant: 'on', requests: 1 },
          { flag: 'new-checkout', variant: 'maybe', requests: 1 },
        ],
      });
      assert.equal(unknown.status, 200, JSON.stringify(unknown.body));
      assert.deepEqual(
        (unknown.body.ignored as { reason: string }[]).map((i) => i.reason),
        ['no flag "no-such-flag" in production', '"maybe" is not a variant of new-checkout (on, off)'],
      );
    });

    await t.test(
      'Sluice down: STALE, the last set still served; Sluice back: READY and changes flow again',
      async () => {
        await server.kill('SIGKILL');
        await until(() => seen.includes(ProviderEvents.Stale), 'STALE', 5000);
        const d = await client.getBooleanDetails('new-checkout', true, staff);
        assert.deepEqual([d.value, d.reason], [false, 'STALE'], 'the last good set (disabled), marked stale');
        const readies = seen.filter((e) => e === ProviderEvents.Ready).length;
        await server.restart();
        await until(() => seen.filter((e) => e === ProviderEvents.Ready).length > readies, 'READY again', 10_000);
        await server.api('POST', '/api/flags/new-checkout/enable', { environment: 'production' });
        await until(
          () => provider.flagSet?.flags[0]?.environments.production?.enabled === true,
          'the enable after the restart',
          2000,
        );
        assert.equal(await client.getBooleanValue('new-checkout', false, staff), true);
      },
    );
  },
);
