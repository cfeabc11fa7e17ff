/**
 * A notifier that cannot be made (its signing secret is missing) is a recorded event on its service,
 * `driver.failed`, and the release goes on without it (docs/notifications.md).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort, serviceSpec, SluiceServer } from './support/sluice.ts';

test(
  'a notifier that cannot be created is recorded as driver.failed; the service still runs',
  { timeout: 60_000 },
  async (t) => {
    const server = await SluiceServer.start();
    t.after(() => server.close());
    const spec = `${serviceSpec({ version: '1.0.0', listenPort: await freePort(), instances: 1 })}  notifications:
    - { driver: webhook, url: "http://127.0.0.1:9/hook", secretEnv: SLUICE_TEST_NO_SUCH_SECRET }
`;
    await server.apply(spec);
    await server.waitForPhase('Healthy', 30_000);
    const events = (
      await server.api<{ events: { type: string; driver?: string; operation?: string; error?: string }[] }>(
        'GET',
        '/api/services/checkout/events',
      )
    ).body.events;
    const failed = events.find((e) => e.type === 'driver.failed' && e.driver === 'notifier');
    assert.ok(failed, JSON.stringify(events.map((e) => e.type)));
    assert.equal(failed.operation, 'create');
    assert.match(failed.error ?? '', /notifications\[0\] \(webhook\): .*SLUICE_TEST_NO_SUCH_SECRET/);
  },
);
