/**
 * Governance events (a plan opened, its gates, approvals) are logged under the service's base
 * name, which runs no controller: its spec's notifiers still get them.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { callAs, envSpec } from './support/environments.ts';
import { freePort, SluiceServer } from './support/sluice.ts';

test('a webhook on a service with environments hears its promotions and approvals', { timeout: 90_000 }, async (t) => {
  const received: string[] = [];
  const receiver = createServer((req, res) => {
    received.push(String(req.headers['x-sluice-event']));
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  t.after(() => receiver.close());
  const hook = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;

  const server = await SluiceServer.start();
  t.after(() => server.close());
  const [stagingPort, productionPort] = [await freePort(), await freePort()];
  const spec = envSpec({ version: '1.0.0', stagingPort, productionPort, approvals: 1 }).replace(
    '  environments:\n',
    `  notifications:\n    - { driver: webhook, url: "${hook}", events: [governance] }\n  environments:\n`,
  );
  await server.apply(spec);
  await server.waitFor((s) => s.phase === 'Healthy', 'staging healthy', 30_000, 'shop--staging');
  const dora = await server.createToken('approver', 'dora');
  const bob = await server.createToken('approver', 'bob');
  assert.equal(
    (await callAs(server, dora, 'POST', '/api/services/shop/releases', { version: '1.0.0', to: 'production' })).status,
    202,
  );
  assert.equal(
    (await callAs(server, bob, 'POST', '/api/services/shop/approve', { environment: 'production' })).status,
    200,
  );
  const until = Date.now() + 10_000;
  while (!received.includes('approval.given') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  assert.ok(
    received.includes('plan.requested') && received.includes('gate.evaluated'),
    `deliveries: ${received.join(', ')}`,
  );
  assert.ok(received.includes('approval.given'), `deliveries: ${received.join(', ')}`);
});
