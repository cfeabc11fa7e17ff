/**
 * Game days end to end (docs/drills.md): a real server, the example service, the built-in proxy,
 * real traffic from the load generator. Times from the drill record (the data plane's counters)
 * are checked against what the load generator saw on its own.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DrillRecord } from '../src/core/drills/record.ts';
import type { ServiceEvent } from '../src/core/events.ts';
import { type Sample, startLoad } from './support/load.ts';
import { CLI, deployedServer, ROOT, serviceSpec, type SluiceServer } from './support/sluice.ts';

type ErrorBody = { error: { code: string; message: string } };

function drill(o: {
  name: string;
  service?: string;
  url: string;
  fault: string;
  before?: string;
  after?: string;
  stop?: string;
}): string {
  return `apiVersion: sluice.dev/v1alpha1
kind: GameDay
metadata: { name: ${o.name} }
spec:
  service: ${o.service ?? 'checkout'}
  hypothesis:
    probes:
      - { name: home, http: { url: "${o.url}", expectStatus: 200 }, every: 200ms, tolerance: 50% }
  method:
    - fault: ${o.fault}
  steadyState: { before: ${o.before ?? '1s'}, after: ${o.after ?? '1s'} }
${o.stop ?? ''}`;
}

/** Sample times are performance.timeOrigin-based; the server's are Date.now(): the offset between them. */
const skew = () => performance.timeOrigin + performance.now() - Date.now();

function sluice(server: SluiceServer, ...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args, '--server', server.url, '--token', server.token], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test(
  '100% errors in a 10% canary: time to detect and restore agree with the load generator within 100 ms',
  { timeout: 120_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t, { steps: ['setWeight: 10', 'pause: { duration: 5m }'] });
    await server.apply(
      serviceSpec({ version: '2.0.0', listenPort, steps: ['setWeight: 10', 'pause: { duration: 5m }'] }),
    );
    await server.waitFor((s) => s.appliedWeights['2.0.0'] === 10, 'the canary at 10%');
    const url = `http://127.0.0.1:${listenPort}/`;
    const load = startLoad({ url, rps: 200, durationMs: 60_000 });
    t.after(() => load.stop());

    const spec = drill({
      name: 'canary-errors',
      url,
      fault: '{ target: canary, errors: 503, percent: 100, for: 30s }',
    });
    const r = await server.api<DrillRecord>('POST', '/api/gamedays/run', { spec, file: 'drill.yaml', wait: true });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const record = r.body;
    await load.stop();
    assert.equal(record.status, 'passed', record.detail ?? '');
    assert.ok(record.timeToDetectMs !== null && record.timeToRestoreMs !== null, JSON.stringify(record));

    // What the load generator saw: the injected 503s (answered by the proxy, no x-version).
    const offset = skew();
    const failures = load.samples.filter((s: Sample) => s.status === 503);
    assert.ok(failures.length >= 3, `the load generator saw ${failures.length} injected errors`);
    // When the client got each faulted answer (its start is when it was due, before a busy machine sent it).
    const firstFail = Math.min(...failures.map((s) => s.end));
    const lastFail = Math.max(...failures.map((s) => s.end));
    const events = await server.api<{ events: ServiceEvent[] }>('GET', '/api/services/checkout/events');
    const fail = events.body.events.find((e) => e.type === 'rollback.started')!;
    const seenDetect = fail.at + offset - firstFail;
    const seenRestore = lastFail - firstFail;
    assert.ok(
      Math.abs(record.timeToDetectMs - seenDetect) <= 100,
      `detect: record ${record.timeToDetectMs} ms, load generator ${seenDetect.toFixed(0)} ms`,
    );
    assert.ok(
      Math.abs(record.timeToRestoreMs - seenRestore) <= 100,
      `restore: record ${record.timeToRestoreMs} ms, load generator ${seenRestore.toFixed(0)} ms`,
    );
    assert.equal(
      load.samples.filter((s) => s.status >= 500 && s.start > lastFail).length,
      0,
      'no error after the last faulted request',
    );
    // The drill's probes go through the proxy too: a few of them may have been faulted.
    const probed = record.steadyState.during?.[0]?.total ?? 0;
    const hits = record.faults[0]!.hits;
    assert.ok(
      hits >= failures.length && hits <= failures.length + probed,
      `the proxy counted ${hits} hits, the load generator ${failures.length} (and ${probed} probe answers)`,
    );
    assert.deepEqual(
      record.timeline.map((e) => e.type).filter((x) => x.startsWith('drill.')),
      [
        'drill.started',
        'drill.steadyState',
        'drill.faultsSet',
        'drill.faultsCleared',
        'drill.steadyState',
        'drill.steadyState',
        'drill.finished',
      ],
    );
    assert.ok(
      record.timeline.some((e) => e.type === 'rollback.started'),
      "the service's rollback is in the timeline",
    );

    // The record through the CLI, as Markdown; sign-off needs an approver.
    const md = sluice(server, 'gameday', 'show', 'canary-errors', '--run', '1', '-o', 'md');
    assert.equal(md.status, 0, md.stderr);
    assert.match(md.stdout, /# Drill canary-errors #1 — passed/);
    assert.match(md.stdout, new RegExp(`Time to detect: ${record.timeToDetectMs} ms`));
    const deployer = await server.createToken('deployer', 'dana');
    const refused = await fetch(`${server.url}/api/gamedays/canary-errors/signoff`, {
      method: 'POST',
      headers: { authorization: `Bearer ${deployer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ run: 1, comment: 'fine' }),
    });
    assert.equal(refused.status, 403);
    const signed = sluice(
      server,
      'gameday',
      'signoff',
      'canary-errors',
      '--run',
      '1',
      '--comment',
      'detected in time',
      '--action',
      'page on canary errors=ann',
    );
    assert.equal(signed.status, 0, signed.stderr);
    const shown = await server.api<DrillRecord>('GET', '/api/gamedays/canary-errors?run=1');
    assert.deepEqual(shown.body.actionItems, [{ text: 'page on canary errors', owner: 'ann' }]);
    assert.equal(shown.body.signOff?.by, 'e2e-test');
  },
);

test('bad drills are refused, naming what is wrong', { timeout: 90_000 }, async (t) => {
  const { server, listenPort } = await deployedServer(t, { instances: 1 });
  const url = `http://127.0.0.1:${listenPort}/`;
  const run = (spec: string) => server.api<ErrorBody>('POST', '/api/gamedays/run', { spec, file: 'drill.yaml' });
  const cases: [string, number, RegExp][] = [
    [
      drill({ name: 'x', url, fault: '{ target: stable, errors: 503, percent: 150, for: 5s }' }),
      400,
      /drill\.yaml:\d+:\d+: spec\.method\[0\]\.fault\.percent: a share is more than 0% and at most 100%, got 150%/,
    ],
    [
      drill({ name: 'x', url, fault: '{ target: stable, errors: 503, cohort: { percent: 5 }, for: 5s }' }),
      400,
      /cohort hashes users by one key: give header: NAME or cookie: NAME/,
    ],
    [
      drill({ name: 'x', url, fault: '{ target: database, errors: 503, for: 5s }' }),
      400,
      /target is canary, stable, metrics or instance/,
    ],
    [
      drill({ name: 'x', url, fault: '{ target: canary, errors: 503, for: 5s }' }),
      409,
      /spec\.method\[0\]\.fault\.target: checkout has no canary revision now \(no release in progress\)/,
    ],
    [
      drill({ name: 'x', service: 'nope', url, fault: '{ target: stable, errors: 503, for: 5s }' }),
      404,
      /spec\.service: no service named "nope"/,
    ],
    [
      drill({
        name: 'x',
        url,
        fault: '{ target: stable, errors: 503, for: 5s }',
        stop: '  stopConditions: [ { probe: other, below: 90% } ]',
      }),
      400,
      /no probe named "other"; the hypothesis has home/,
    ],
  ];
  for (const [spec, status, message] of cases) {
    const r = await run(spec);
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.match(r.body.error.message, message);
  }
  // One drill at a time per service.
  const first = await run(
    drill({ name: 'long', url, fault: '{ target: stable, latency: 10ms, percent: 1, for: 20s }' }),
  );
  assert.equal(first.status, 202, JSON.stringify(first.body));
  const second = await run(
    drill({ name: 'other', url, fault: '{ target: stable, latency: 10ms, percent: 1, for: 20s }' }),
  );
  assert.equal(second.status, 409);
  assert.match(second.body.error.message, /drill long #1 is running on checkout; one drill at a time per service/);
  const stop = sluice(server, 'gameday', 'stop', '--all');
  assert.equal(stop.status, 0, stop.stderr);
  assert.match(stop.stdout, /stopped 1 drill\(s\)/);

  // Once the stopped drill has ended, the CLI runs the next one to its end with --wait.
  const ended = Date.now() + 10_000;
  while ((await server.api<DrillRecord>('GET', '/api/gamedays/long')).body.status === 'running') {
    assert.ok(Date.now() < ended, 'the stopped drill never ended');
    await new Promise((r) => setTimeout(r, 100));
  }
  writeFileSync(
    join(server.dataDir, 'short.yaml'),
    drill({
      name: 'short',
      url,
      fault: '{ target: stable, latency: 5ms, percent: 10, for: 1s }',
      before: '500ms',
      after: '500ms',
    }),
  );
  const waited = sluice(server, 'gameday', 'run', '-f', join(server.dataDir, 'short.yaml'), '--wait');
  assert.equal(waited.status, 0, waited.stdout + waited.stderr);
  assert.match(waited.stdout, /drill short #1 on checkout: passed/);
});

test(
  "the safety lever removes every fault within 1 s under load; a killed controller's faults end by their lease and the run is recorded interrupted",
  { timeout: 120_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t, { instances: 1 });
    const url = `http://127.0.0.1:${listenPort}/`;
    const load = startLoad({ url, rps: 200, durationMs: 60_000 });
    t.after(() => load.stop());
    const spec = drill({
      name: 'stable-errors',
      url,
      fault: '{ target: stable, errors: 500, percent: 20, for: 60s }',
      before: '200ms',
    });
    assert.equal((await server.api('POST', '/api/gamedays/run', { spec, file: 'drill.yaml' })).status, 202);
    const until = Date.now() + 10_000;
    while (load.samples.filter((s) => s.status === 500).length < 20) {
      assert.ok(Date.now() < until, 'the fault never showed in the traffic');
      await new Promise((r) => setTimeout(r, 50));
    }
    const pulled = performance.timeOrigin + performance.now();
    const stop = await server.api<{ stopped: string[]; removed: number; ms: number }>('POST', '/api/gamedays/stop', {
      all: true,
    });
    assert.equal(stop.status, 200);
    assert.equal(stop.body.removed, 1);
    await new Promise((r) => setTimeout(r, 1500));
    const late = load.samples.filter((s) => s.status === 500 && s.start > pulled + 1000);
    assert.equal(late.length, 0, `${late.length} faulted answers more than 1 s after the safety lever`);
    const lastFault = Math.max(...load.samples.filter((s) => s.status === 500).map((s) => s.start));
    assert.ok(
      lastFault - pulled <= 1000,
      `the last faulted request came ${(lastFault - pulled).toFixed(0)} ms after the lever`,
    );
    const aborted = await server.api<DrillRecord>('GET', '/api/gamedays/stable-errors?run=1');
    assert.equal(aborted.body.status, 'aborted');
    assert.match(aborted.body.detail ?? '', /stopped by e2e-test \(safety lever\)/);

    // A controller killed mid-drill: its fault (lease 3 s) ends on its own; the next start records the run interrupted.
    writeFileSync(
      join(server.dataDir, 'drill.yaml'),
      drill({
        name: 'stable-errors',
        url,
        fault: '{ target: stable, errors: 500, percent: 100, for: 60s }',
        before: '200ms',
      }),
    );
    const started = sluice(server, 'gameday', 'run', '-f', join(server.dataDir, 'drill.yaml'));
    assert.equal(started.status, 0, started.stderr);
    const failing = Date.now() + 10_000;
    while (
      (await fetch(url).then(
        (r) => r.status,
        () => 0,
      )) !== 500
    ) {
      assert.ok(Date.now() < failing, 'the fault never showed');
      await new Promise((r) => setTimeout(r, 50));
    }
    await server.kill('SIGKILL');
    const killedAt = Date.now();
    while (
      (await fetch(url).then(
        (r) => r.status,
        () => 0,
      )) !== 200
    ) {
      assert.ok(Date.now() - killedAt < 5000, 'the fault outlived its controller by more than its 3 s lease (+2 s)');
      await new Promise((r) => setTimeout(r, 50));
    }
    await server.restart();
    const runs = await server.api<{ runs: { drill: string; run: number; status: string }[] }>('GET', '/api/gamedays');
    assert.deepEqual(
      runs.body.runs.map((r) => [r.drill, r.run, r.status]),
      [
        ['stable-errors', 2, 'interrupted'],
        ['stable-errors', 1, 'aborted'],
      ],
    );
    const list = sluice(server, 'gameday', 'list');
    assert.match(list.stdout, /stable-errors\s+2\s+checkout\s+interrupted/);
  },
);
