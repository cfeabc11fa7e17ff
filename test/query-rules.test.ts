/**
 * Query rules and notifications end to end: a real server releases a real service while a rule
 * asks an HTTP metrics API (the `web` provider) for each version's success rate, and a webhook
 * receiver collects signed notifications. The canary's figures are bad: it is rolled back on the
 * query rule, and the receiver gets the rollback with its trigger.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { test } from 'node:test';
import { deployedServer, serviceSpec } from './support/sluice.ts';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

test(
  'a query rule on the web provider rolls back a canary with a bad success rate; a signed webhook reports it',
  { timeout: 120_000 },
  async (t) => {
    // The in-house metrics API: success rate per version; the canary's is 90%.
    const asked: string[] = [];
    const metricsApi = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const version = url.searchParams.get('version') ?? '';
      asked.push(`${version} ${url.searchParams.get('window')}`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: { successRate: version === '2.0.0' ? 0.9 : 0.999 } }));
    });
    const metricsPort = await listen(metricsApi);
    t.after(() => metricsApi.close());

    const secret = 'test-secret';
    // Read by the server (spawned with this environment) from its reference: a literal is refused.
    process.env.SLUICE_TEST_HOOK_SECRET = secret;
    const received: { type: string; body: { type: string; event?: { log?: { trigger?: string } } }; valid: boolean }[] =
      [];
    const receiver = createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        const m = /t=(\d+),v1=([0-9a-f]+)/.exec(String(req.headers['x-sluice-signature'] ?? ''));
        const valid = m !== null && createHmac('sha256', secret).update(`${m[1]}.${raw}`).digest('hex') === m[2];
        received.push({ type: String(req.headers['x-sluice-event']), body: JSON.parse(raw), valid });
        res.end('ok');
      });
    });
    const receiverPort = await listen(receiver);
    t.after(() => receiver.close());

    const contract = `    interval: 250ms
    window: 5s
    minSamples: 20
    rules:
      - name: success-rate
        query: /metrics?version=\${version}&window=\${window} | $.data.successRate
        failIf: { below: baseline, by: 0.01 }`;
    const extra = `  metrics: { provider: web, address: "http://127.0.0.1:${metricsPort}", timeout: 1s }
  notifications:
    - { driver: webhook, url: "http://127.0.0.1:${receiverPort}/hook", secretEnv: SLUICE_TEST_HOOK_SECRET, events: [rollbacks, release.started] }
`;
    const withExtra = (spec: string) => spec.replace('  strategy:\n', `${extra}  strategy:\n`);
    const { server, listenPort } = await deployedServer(t, { contract, instances: 1 });
    await server.apply(withExtra(serviceSpec({ version: '1.0.0', listenPort, instances: 1, contract })));
    await server.apply(
      withExtra(
        serviceSpec({ version: '2.0.0', listenPort, instances: 1, contract, steps: ['setWeight: 10', 'pause: {}'] }),
      ),
    );

    const s = await server.waitForPhase('RolledBack', 30_000);
    assert.equal(s.lastRollback?.trigger, 'success-rate');
    assert.match(
      s.lastRollback?.reason ?? '',
      /success-rate canary 0\.9, baseline 0\.999: fails "below baseline − 0\.01"/,
    );
    assert.ok(asked.includes('2.0.0 5s') && asked.includes('1.0.0 5s'), `asked: ${asked.slice(0, 4).join(', ')}`);

    const until = Date.now() + 10_000;
    while (!received.some((r) => r.type === 'rollback.started') && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    const rollback = received.find((r) => r.type === 'rollback.started');
    assert.ok(rollback, `webhook deliveries: ${received.map((r) => r.type).join(', ')}`);
    assert.ok(
      received.every((r) => r.valid),
      'every delivery carries a valid signature',
    );
    assert.ok(received.some((r) => r.type === 'release.started'));
    assert.ok(!received.some((r) => r.type === 'analysis.evaluated'), 'the filter holds back what was not asked for');
  },
);
