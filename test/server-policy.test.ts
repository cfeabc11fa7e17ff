/**
 * The server policy against a real server with real tokens: an admin limits what specs may make
 * the server start and call; a deployer's spec outside it is refused at apply, naming the field;
 * no one else may change it; with no policy (a laptop) everything applies as before.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callAs, type ErrorAnswer } from './support/environments.ts';
import { freePort, serviceSpec, SluiceServer } from './support/sluice.ts';

test(
  'server policy: allowed executables and hosts, set by an admin, checked at apply',
  { timeout: 90_000 },
  async (t) => {
    const server = await SluiceServer.start();
    t.after(() => server.close());
    const dora = await server.createToken('deployer', 'dora');
    const alice = await server.createToken('approver', 'alice');
    const port = await freePort();
    const apply = (text: string) =>
      callAs<ErrorAnswer & { results?: unknown[] }>(server, dora, 'POST', '/api/apply', {
        spec: text,
        file: 'shop.yaml',
      });
    const withMetrics = (address: string) =>
      `${serviceSpec({ name: 'shop', version: '1.0.0', listenPort: port, instances: 1 })}  metrics:\n    provider: web\n    address: ${address}\n`;

    // No policy: a laptop's server limits nothing.
    assert.deepEqual((await server.api('GET', '/api/server-policy')).body, { policy: {} });

    const set = (token: string, policy: object) =>
      callAs<ErrorAnswer & { policy?: unknown }>(server, token, 'PUT', '/api/server-policy', policy);
    assert.equal((await set(dora, { allowExec: ['bash'] })).status, 403, 'a deployer cannot widen or narrow it');
    assert.equal((await set(alice, { allowExec: ['bash'] })).status, 403, 'nor an approver');
    const bad = await set(server.token, { allowExec: 'node' });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.match(JSON.stringify(bad.body), /allowExec/);
    assert.equal((await set(server.token, { allowExec: ['/usr/bin/'], allowUrlHosts: ['127.0.0.1'] })).status, 200);

    const refused = await apply(withMetrics('http://169.254.169.254/latest'));
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.match(
      refused.body.error.message,
      /shop: spec\.target\.command\[0\]: "node" is not an executable this server may start; allowed \(server policy, set by an admin\): \/usr\/bin\//,
    );
    assert.match(
      refused.body.error.message,
      /shop: spec\.metrics\.address: 169\.254\.169\.254 is not a host this server may call; allowed \(server policy, set by an admin\): 127\.0\.0\.1/,
    );
    assert.equal((await server.api('GET', '/api/services/shop')).status, 404, 'nothing was applied');

    // The admin allows node: the spec applies and runs.
    assert.equal(
      (await set(server.token, { allowExec: ['/usr/bin/', 'node'], allowUrlHosts: ['127.0.0.1'] })).status,
      200,
    );
    const ok = await apply(serviceSpec({ name: 'shop', version: '1.0.0', listenPort: port, instances: 1 }));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    await server.waitForPhase('Healthy', 30_000, 'shop');

    // The change is on the record, with who made it.
    const log = await (
      await fetch(`${server.url}/api/audit/export`, { headers: { authorization: `Bearer ${server.token}` } })
    ).text();
    assert.match(log, /serverPolicy\.applied/);
  },
);
