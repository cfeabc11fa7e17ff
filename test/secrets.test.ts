/**
 * Secrets stay secret (issue 10), against a real server: a smoke step that prints its whole
 * environment and the admin token puts neither the server's SLUICE_TOKEN nor any token into the
 * hash-chained log; a literal webhook secret or Authorization header is refused naming the field;
 * the data dir is 0700 and sluice.db 0600.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, serviceSpec, SluiceServer } from './support/sluice.ts';

type ErrorBody = { error: { code: string; message: string } };
const SERVER_SECRET = 'sluice-e2e-server-token-4711';

test(
  'secrets: minimal child environment, scrubbed output, literals refused, private data dir',
  { timeout: 90_000 },
  async (t) => {
    // The server is spawned with this environment: the variable is the server's, not the spec's.
    process.env.SLUICE_TOKEN = SERVER_SECRET;
    const server = await SluiceServer.start();
    delete process.env.SLUICE_TOKEN;
    t.after(() => server.close());
    const listenPort = await freePort();
    await server.apply(serviceSpec({ version: '1.0.0', listenPort, instances: 1 }));
    await server.waitForPhase('Healthy');

    await t.test('a smoke step sees a minimal environment; a token it prints is scrubbed from events', async () => {
      const print = `process.stdout.write(JSON.stringify(process.env) + " admin=" + require("fs").readFileSync(${JSON.stringify(join(server.dataDir, 'admin.token'))}, "utf8")); process.exit(1)`;
      const steps = [
        'setWeight: 20',
        `smoke: { command: ["node", "-e", ${JSON.stringify(print)}], timeout: 10s }`,
        'pause: { duration: 1s }',
      ];
      await server.apply(serviceSpec({ version: '2.0.0', listenPort, instances: 1, steps }));
      await server.waitFor(
        (s) => s.release?.toVersion === '2.0.0' && !['Starting', 'Progressing'].includes(s.release.status),
        'the smoke step decided',
        30_000,
      );
      const events = JSON.stringify(
        (await server.api<{ events: unknown[] }>('GET', '/api/services/checkout/events')).body.events,
      );
      assert.match(events, /\\"PATH\\":/, 'the smoke output was captured');
      assert.ok(!events.includes(SERVER_SECRET), "the server's SLUICE_TOKEN reached the log");
      assert.ok(!events.includes('SLUICE_TOKEN'), 'the child saw SLUICE_TOKEN');
      assert.ok(!events.includes(server.adminToken), 'the admin token reached the log');
      assert.match(events, /admin=\[secret\]/);
    });

    await t.test(
      'a literal webhook secret or Authorization header is refused, naming the field and the reference form',
      async () => {
        const hook = (extra: string) =>
          serviceSpec({ version: '1.0.0', listenPort, instances: 1 }) +
          `  notifications:\n    - { driver: webhook, url: "http://127.0.0.1:9/hook", ${extra} }\n`;
        const secret = await server.api<ErrorBody>('POST', '/api/lint', {
          spec: hook('secret: whsec_live_123'),
          file: 'shop.yaml',
        });
        assert.equal(secret.status, 400, JSON.stringify(secret.body));
        assert.match(
          secret.body.error.message,
          /spec\.notifications\[0\]\.secret: a literal secret \(the webhook signing key\).*\{ secretEnv: SLUICE_WEBHOOK_SECRET \}/,
        );
        const header = await server.api<ErrorBody>('POST', '/api/apply', {
          spec: hook('headers: { Authorization: "Bearer abc" }'),
          file: 'shop.yaml',
        });
        assert.equal(header.status, 400, JSON.stringify(header.body));
        assert.match(
          header.body.error.message,
          /spec\.notifications\[0\]\.headers\.Authorization: a literal secret \(header Authorization\)/,
        );
      },
    );

    await t.test('the data dir is 0700 and sluice.db 0600', () => {
      assert.equal(statSync(server.dataDir).mode & 0o777, 0o700);
      assert.equal(statSync(join(server.dataDir, 'sluice.db')).mode & 0o777, 0o600);
    });
  },
);
