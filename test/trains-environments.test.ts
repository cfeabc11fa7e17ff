/**
 * A release train through environments (docs/trains.md): two services with staging and production
 * move into staging together, then into production through production's gates, as a person's
 * release would; a version staging never ran is refused at production's gate, naming it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TrainView } from '../src/views/index.ts';
import { envSpec } from './support/environments.ts';
import { startLoad } from './support/load.ts';
import { freePort, ROOT, SluiceServer } from './support/sluice.ts';

const train = (name: string, environment: string, version: string) => `apiVersion: sluice.dev/v1alpha1
kind: ReleaseTrain
metadata: { name: ${name} }
spec:
  environment: ${environment}
  services:
    - { name: payments, version: "${version}" }
    - { name: shop, version: "${version}" }
  maxParallel: 2
`;

test('a train moves services into staging, then into production through its gates', { timeout: 180_000 }, async (t) => {
  const server = await SluiceServer.start();
  t.after(() => server.close());
  const ports = {
    payments: { staging: await freePort(), production: await freePort() },
    shop: { staging: await freePort(), production: await freePort() },
  };
  const spec = (name: 'payments' | 'shop', version: string) =>
    envSpec({
      name,
      version,
      stagingPort: ports[name].staging,
      productionPort: ports[name].production,
      contractWindow: '3s',
    }).replace('- pause: {}', '- pause: { duration: 1s }');
  for (const name of ['payments', 'shop'] as const) {
    await server.apply(spec(name, '1.0.0'));
    await server.waitForPhase('Healthy', 30_000, `${name}--staging`);
  }
  const apply = (text: string) =>
    server.api<{ results: { service: string; action: string }[]; error?: { message: string } }>('POST', '/api/apply', {
      spec: text,
      file: 'train.yaml',
      baseDir: ROOT,
    });
  const ended = async (name: string) => {
    const until = Date.now() + 60_000;
    for (;;) {
      const v = (await server.api<TrainView>('GET', `/api/trains/${name}`)).body;
      if (!['Running', 'RollingBack'].includes(v.status) || Date.now() > until) return v;
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  // Services with environments need the train to name one.
  const unnamed = await apply(train('plain', 'staging', '2.0.0').replace('  environment: staging\n', ''));
  assert.equal(unnamed.status, 400);
  assert.match(unnamed.body.error!.message, /payments is released through its environments .*spec\.environment/);
  const unknown = await apply(train('nowhere', 'qa', '2.0.0'));
  assert.equal(unknown.status, 400);
  assert.match(unknown.body.error!.message, /payments has no environment "qa"; its environments: staging, production/);

  const loads = [ports.payments.staging, ports.shop.staging].map((port) =>
    startLoad({ url: `http://127.0.0.1:${port}/`, rps: 60, durationMs: 60_000 }),
  );
  t.after(() => Promise.all(loads.map((l) => l.stop())));
  assert.equal((await apply(train('to-staging', 'staging', '2.0.0'))).status, 200);
  const staged = await ended('to-staging');
  assert.equal(staged.status, 'Succeeded', JSON.stringify(staged, null, 2));
  assert.deepEqual(
    staged.services.map((s) => `${s.name}:${s.status}`),
    ['payments--staging:done', 'shop--staging:done'],
  );
  for (const report of await Promise.all(loads.map((l) => l.stop())))
    assert.equal(report.failed, 0, JSON.stringify(report));
  assert.equal((await server.status('shop--staging')).stableVersion, '2.0.0');

  // Into production, through its gates: staging ran 2.0.0 to the end, so the plans start.
  assert.equal((await apply(train('to-production', 'production', '2.0.0'))).status, 200);
  const shipped = await ended('to-production');
  assert.equal(shipped.status, 'Succeeded', JSON.stringify(shipped, null, 2));
  for (const name of ['payments', 'shop'])
    assert.equal((await server.status(`${name}--production`)).stableVersion, '2.0.0');

  // A version staging never ran is refused at production's gate; nothing changes there.
  assert.equal((await apply(train('skip-staging', 'production', '3.0.0'))).status, 200);
  const refused = await ended('skip-staging');
  assert.equal(refused.status, 'RolledBack', JSON.stringify(refused, null, 2));
  assert.match(
    refused.services[0]!.detail,
    /payments 3\.0\.0 into production: previous-environment failed: 3\.0\.0 was never released to staging/,
  );
  assert.equal((await server.status('payments--production')).stableVersion, '2.0.0');
});
