/**
 * End to end: a release train of three services with real processes and traffic through the
 * built-in proxy. The middle one fails its contract: the train stops, the service after it is
 * held, and the one released before it is rolled back after it — reverse dependency order — with
 * no request failed on any stable version (docs/trains.md).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import type { TrainView } from '../src/views/index.ts';
import { startLoad } from './support/load.ts';
import { CLI, freePort, ROOT, serviceSpec, type SpecOptions } from './support/sluice.ts';
import { SluiceServer } from './support/sluice.ts';

const withDeps = (o: SpecOptions, deps: Record<string, string>) =>
  `${serviceSpec({ instances: 1, steps: ['setWeight: 50', 'pause: { duration: 1s }'], ...o })}${
    Object.keys(deps).length === 0
      ? ''
      : `  dependsOn:\n${Object.entries(deps)
          .map(([s, v]) => `    - { service: ${s}, version: "${v}" }`)
          .join('\n')}\n`
  }`;

const TRAIN = `apiVersion: sluice.dev/v1alpha1
kind: ReleaseTrain
metadata: { name: spring }
spec:
  services:
    - { name: payments, version: "2.0.0" }
    - { name: checkout, version: "2.0.0" }
    - { name: search,   version: "2.0.0" }
  maxParallel: 2
  onFailure: rollbackAll
`;

test(
  'a three-service train whose middle service fails its contract is rolled back in reverse order, no request failed on a stable version',
  { timeout: 150_000 },
  async (t) => {
    const server = await SluiceServer.start();
    t.after(() => server.close());
    const ports = { payments: await freePort(), checkout: await freePort(), search: await freePort() };
    // Each is deployed once what it depends on runs (before that, its first deploy would wait).
    await server.apply(withDeps({ name: 'payments', version: '1.0.0', listenPort: ports.payments }, {}));
    await server.waitForPhase('Healthy', 30_000, 'payments');
    await server.apply(
      withDeps(
        { name: 'checkout', version: '1.0.0', listenPort: ports.checkout, env: { FAIL_VERSIONS: '2.0.0' } },
        { payments: '>=1.0.0' },
      ),
    );
    await server.waitForPhase('Healthy', 30_000, 'checkout');
    await server.apply(
      withDeps({ name: 'search', version: '1.0.0', listenPort: ports.search }, { checkout: '>=1.0.0' }),
    );
    await server.waitForPhase('Healthy', 30_000, 'search');

    // A train naming a service that does not exist is refused at its line, before anything starts.
    const bad = await server.api<{ error: { message: string } }>('POST', '/api/apply', {
      spec: TRAIN.replace('name: search', 'name: serch'),
      file: 'train.yaml',
      baseDir: ROOT,
    });
    assert.equal(bad.status, 400);
    assert.match(
      bad.body.error.message,
      /train\.yaml:8:7: spec\.services\[2\]: unknown service "serch"; apply its Service spec first/,
    );
    assert.equal((await server.api('GET', '/api/trains/spring')).status, 404);

    const loads = Object.entries(ports).map(([name, port]) => ({
      name,
      load: startLoad({ url: `http://127.0.0.1:${port}/`, rps: 100, durationMs: 90_000 }),
    }));
    t.after(() => Promise.all(loads.map((l) => l.load.stop())));
    const applied = await server.api<{ results: { service: string; action: string }[] }>('POST', '/api/apply', {
      spec: TRAIN,
      file: 'train.yaml',
      baseDir: ROOT,
    });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    assert.deepEqual(
      applied.body.results.map((r) => `${r.service} ${r.action}`),
      ['train/spring released'],
    );

    let train: TrainView | null = null;
    const until = Date.now() + 100_000;
    while (Date.now() < until) {
      train = (await server.api<TrainView>('GET', '/api/trains/spring')).body;
      if (train.status !== 'Running' && train.status !== 'RollingBack') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const reports = await Promise.all(loads.map(async (l) => ({ name: l.name, report: await l.load.stop() })));
    assert.equal(train!.status, 'RolledBack', JSON.stringify(train, null, 2));
    assert.deepEqual(
      train!.services.map((s) => `${s.name}:${s.status}`),
      ['payments:rolledBack', 'checkout:failed', 'search:held'],
    );
    assert.match(train!.services[1]!.detail, /checkout 2\.0\.0: release RolledBack: error_rate/);

    // The order: payments released, then checkout; checkout's own contract reverted it; then payments went back.
    const types = train!.timeline!.map(
      (e) => `${e.type}${/^(\w+):/.exec(e.text)?.[1] ? ` ${/^(\w+):/.exec(e.text)![1]}` : ''}`,
    );
    assert.deepEqual(
      types.filter((x) => x !== 'train.held'),
      [
        'train.started',
        'train.serviceStarted payments',
        'train.serviceDone payments',
        'train.serviceStarted checkout',
        'train.serviceFailed checkout',
        'train.rollingBack',
        'train.rollbackStarted payments',
        'train.serviceRolledBack payments',
        'train.ended',
      ],
    );
    const checkoutBack = (await server.status('checkout')).lastRollback!;
    const paymentsBackStarted = Date.parse(train!.timeline!.find((e) => e.type === 'train.rollbackStarted')!.at);
    assert.ok(
      Date.parse(checkoutBack.trafficRevertedAt!) < paymentsBackStarted,
      'checkout (the dependent) was back on 1.0.0 before payments began to go back',
    );
    const payments = await server.status('payments');
    assert.equal(payments.stableVersion, '1.0.0');
    assert.equal(payments.release!.kind, 'undo', 'payments went back by an undo release of its old revision');
    assert.equal((await server.status('search')).stableVersion, '1.0.0');
    assert.deepEqual(
      (await server.history('search')).map((r) => r.status),
      ['Succeeded'],
      'search was never started',
    );

    for (const { name, report } of reports) {
      assert.equal(
        report.byVersion['1.0.0']?.failed ?? 0,
        0,
        `${name}: requests failed on the stable version: ${JSON.stringify(report.byVersion)}`,
      );
      assert.ok((report.byVersion['1.0.0']?.ok ?? 0) > 100, `${name} served traffic`);
    }
    assert.equal(reports[0]!.report.byVersion['2.0.0']?.failed ?? 0, 0, 'payments 2.0.0 is healthy');
    assert.ok((reports[1]!.report.byVersion['2.0.0']?.failed ?? 0) > 0, 'checkout 2.0.0 did fail requests');

    // The CLI: each service and the timeline; exit 1 for a train rolled back.
    const cli = (...args: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(
          process.execPath,
          [CLI, ...args],
          { cwd: ROOT, env: { ...process.env, SLUICE_SERVER: server.url, SLUICE_TOKEN: server.token } },
          (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout }),
        );
      });
    const status = await cli('train', 'status', 'spring');
    assert.equal(status.code, 1);
    assert.match(status.stdout, /^train spring run 1: RolledBack/);
    assert.match(status.stdout, /payments\s+2\.0\.0\s+1\.0\.0\s+rolledBack\s+payments runs 1\.0\.0 again/);
    assert.match(status.stdout, /search\s+2\.0\.0\s+1\.0\.0\s+held/);
    assert.match(status.stdout, /payments: rolling back to 1\.0\.0/);
    assert.equal(JSON.parse((await cli('train', 'status', 'spring', '-o', 'json')).stdout).status, 'RolledBack');
    const abort = await cli('train', 'abort', 'spring');
    assert.notEqual(abort.code, 0, 'a train that stopped cannot be aborted');
  },
);

test(
  'a train calendar: a scheduled train runs at each occurrence of its RRULE, shows its next runs, and abort cancels it',
  { timeout: 60_000 },
  async (t) => {
    const server = await SluiceServer.start();
    t.after(() => server.close());
    await server.apply(withDeps({ name: 'payments', version: '1.0.0', listenPort: await freePort() }, {}));
    await server.waitForPhase('Healthy', 30_000, 'payments');
    const applied = await server.apply(`apiVersion: sluice.dev/v1alpha1
kind: ReleaseTrain
metadata: { name: nightly }
spec:
  services:
    - { name: payments, version: "1.0.0" }
  schedule: { rrule: "FREQ=SECONDLY;INTERVAL=3", start: "2026-01-01T00:00", timeZone: UTC }
`);
    assert.deepEqual(
      applied.map((r) => r.action),
      ['waiting'],
    );
    const first = (await server.api<TrainView>('GET', '/api/trains/nightly')).body;
    assert.equal(first.status, 'Scheduled');
    assert.equal(first.run, 0);
    assert.ok(first.nextRunAt !== null && Date.parse(first.nextRunAt) - Date.now() <= 3500);
    assert.equal(first.upcoming!.length, 5);
    assert.deepEqual(
      first.upcoming!.slice(1).map((u, i) => Date.parse(u) - Date.parse(first.upcoming![i]!)),
      [3000, 3000, 3000, 3000],
    );

    // It runs at its time (payments already runs 1.0.0: done at once), then waits for the next run.
    const until = Date.now() + 20_000;
    let t2 = first;
    while (Date.now() < until && t2.run < 2) {
      await new Promise((r) => setTimeout(r, 200));
      t2 = (await server.api<TrainView>('GET', '/api/trains/nightly')).body;
    }
    assert.ok(t2.run >= 2, `ran ${t2.run} times`);

    assert.equal((await server.api('POST', '/api/trains/nightly/abort', {})).status, 200);
    const aborted = (await server.api<TrainView>('GET', '/api/trains/nightly')).body;
    await new Promise((r) => setTimeout(r, 3500));
    const later = (await server.api<TrainView>('GET', '/api/trains/nightly')).body;
    assert.equal(later.status, 'Aborted');
    assert.equal(later.run, aborted.run, 'no run after the schedule was cancelled');
    assert.deepEqual(later.upcoming, []);
  },
);
