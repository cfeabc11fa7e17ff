/**
 * A flag judged on the applications' reports (`evidence: sdk`) on replicas: the reports reach
 * replica b, the flag's service is run by replica a, and a judges them (the outcomes are shared
 * through the database); then a is SIGKILLed, b takes the service over, and the reports that
 * reach b are b's evidence. And a flag's kill switch thrown on one replica reaches an in-process
 * provider streaming from another within a second.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SluiceProvider } from 'sluice/openfeature';
import { withoutPostgres } from './support/postgres.ts';
import { rampedFlag } from './support/flags.ts';
import { startReplicas } from './support/replicas.ts';
import { freePort, serviceSpec, type SluiceServer } from './support/sluice.ts';

const skip = withoutPostgres();

const FLAG = rampedFlag('evidence: sdk');

interface FlagAnswer {
  environments: { production: { enabled: boolean } };
}

/** Posts one report as an application's provider does: `on` fails one request in `failEvery`. */
async function report(server: SluiceServer, token: string, failEvery: number | null): Promise<void> {
  const res = await fetch(`${server.url}/api/sdk/evaluations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      outcomes: [
        { flag: 'new-checkout', variant: 'on', requests: 20, errors: failEvery === null ? 0 : 20 / failEvery },
        { flag: 'new-checkout', variant: 'off', requests: 20, errors: 0 },
      ],
    }),
  });
  const body = (await res.json()) as { ignored: unknown[] };
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.deepEqual(body.ignored, [], 'the replica that took the report knows the flag');
}

async function turnedOff(on: SluiceServer, post: () => Promise<void>, what: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    await post();
    const flag = await on.api<FlagAnswer>('GET', '/api/flags/new-checkout');
    if (flag.status === 200 && !flag.body.environments.production.enabled) return Date.now() - started;
    if (Date.now() - started > 20_000) {
      const seen = (await on.api<{ outcomes: unknown }>('GET', '/api/flags/new-checkout')).body.outcomes;
      assert.fail(`${what}: not turned off after 20 s; outcomes: ${JSON.stringify(seen)}\n${on.log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

test(
  'reports sent to one replica are the evidence of the replica that runs the service, before and after a failover',
  { skip, timeout: 120_000 },
  async (t) => {
    const replicas = await startReplicas(t, ['a', 'b']);
    const [a, b] = [replicas.servers[0]!, replicas.servers[1]!];
    await a.apply(serviceSpec({ version: '1.0.0', listenPort: await freePort(), instances: 1 }));
    await a.waitForPhase('Healthy', 30_000);
    await a.apply(FLAG);
    const { token } = (
      await a.api<{ token: string }>('POST', '/api/tokens', { role: 'sdk', environment: 'production', name: 'app' })
    ).body;
    const running = await b.api<{ controller?: { replica: string } }>('GET', '/api/services/checkout');
    assert.equal(running.body.controller?.replica, 'a', JSON.stringify(running.body));

    // Healthy reports to b: a judges them and the flag stays on.
    const until = Date.now() + 2000;
    while (Date.now() < until) {
      await report(b, token, null);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(
      (await a.api<FlagAnswer>('GET', '/api/flags/new-checkout')).body.environments.production.enabled,
      true,
    );

    // "on" fails 10% of its requests, reported to b only: a turns the flag off.
    const ms = await turnedOff(a, () => report(b, token, 10), 'judged on a');
    const events = (
      await a.api<{ events: { type: string; actor: string; log?: { figures: Record<string, number> } }[] }>(
        'GET',
        '/api/flags/new-checkout/events',
      )
    ).body.events;
    const rolled = events.find((e) => e.type === 'flag.rolledBack');
    assert.ok(rolled?.log, JSON.stringify(events));
    t.diagnostic(
      `turned off by a ${ms} ms after the failing reports to b began: ${JSON.stringify(rolled.log.figures)}`,
    );
    assert.equal(rolled.actor, 'sluice-controller');
    assert.ok(rolled.log.figures.requests! >= 40 && rolled.log.figures.errors! > 0);

    // Failover: a dies, b runs checkout and judges the reports it takes in from then on.
    await b.api('POST', '/api/flags/new-checkout/enable', { environment: 'production' });
    await a.kill('SIGKILL');
    const by = Date.now() + 10_000;
    for (;;) {
      const s = await b.api<{ controller?: { replica: string } }>('GET', '/api/services/checkout');
      if (s.body.controller?.replica === 'b') break;
      assert.ok(Date.now() < by, `b did not take checkout over: ${JSON.stringify(s.body.controller)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const after = await turnedOff(b, () => report(b, token, 10), 'judged on b after the failover');
    t.diagnostic(`after the failover, turned off by b ${after} ms after its failing reports began`);
  },
);

test(
  'a kill switch thrown on one replica reaches a provider streaming from another within a second',
  { skip, timeout: 120_000 },
  async (t) => {
    const replicas = await startReplicas(t, ['a', 'b']);
    const [a, b] = [replicas.servers[0]!, replicas.servers[1]!];
    await a.apply(FLAG.replace(/ {2}rollbackContract:[\s\S]*$/, ''));
    const { token } = (
      await a.api<{ token: string }>('POST', '/api/tokens', { role: 'sdk', environment: 'production', name: 'app' })
    ).body;
    const provider = new SluiceProvider({ url: b.url, token, reportIntervalMs: 0 });
    await provider.initialize();
    t.after(() => provider.onClose());
    const enabled = () =>
      provider.flagSet?.flags.find((f) => f.name === 'new-checkout')?.environments.production?.enabled;
    assert.equal(enabled(), true, 'b serves the flag a applied');
    const thrown = performance.now();
    const disabled = await a.api('POST', '/api/flags/new-checkout/disable', { environment: 'production' });
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
    while (enabled() !== false) {
      assert.ok(performance.now() - thrown < 1000, 'the provider on b still has the flag on after 1 s');
      await new Promise((r) => setTimeout(r, 5));
    }
    t.diagnostic(
      `the kill switch thrown on a reached the provider on b in ${Math.round(performance.now() - thrown)} ms`,
    );
  },
);
