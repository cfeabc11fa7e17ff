/**
 * Instance faults in game days (docs/drills.md), end to end: a real server, the example service
 * run by the process target, the built-in proxy and real traffic. A killed canary instance is
 * detected by the contract; a stopped (SIGSTOP) instance is resumed by the safety lever.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DrillRecord } from '../src/core/drills/record.ts';
import type { ServiceEvent } from '../src/core/events.ts';
import { httpGet } from '../src/drivers/targets/fixtures/http-get.ts';
import { startLoad } from './support/load.ts';
import { CLI, deployedServer, ROOT, serviceSpec, type SluiceServer } from './support/sluice.ts';

type ErrorBody = { error: { code: string; message: string } };

const CONTRACT = `    interval: 250ms
    window: 5s
    minSamples: 20
    rules:
      - { metric: error_rate, failIf: { above: baseline, by: 0.02 } }
      - { metric: instance_crashes, failIf: { above: 0 } }`;
const STEPS = ['setWeight: 10', 'pause: { duration: 5m }'];

function drill(name: string, url: string, fault: string): string {
  return `apiVersion: sluice.dev/v1alpha1
kind: GameDay
metadata: { name: ${name} }
spec:
  service: checkout
  hypothesis:
    probes:
      - { name: home, http: { url: "${url}", expectStatus: 200 }, every: 200ms, tolerance: 50% }
  method:
    - fault: ${fault}
  steadyState: { before: 500ms, after: 500ms }
`;
}

/** The process state ("S", "R", "T" stopped …) of the instance revision `key` runs as its first. */
function processState(server: SluiceServer, key: string): string {
  const file = join(server.dataDir, 'services', 'checkout', 'target', key, `${key}-1.json`);
  const { pid } = JSON.parse(readFileSync(file, 'utf8')) as { pid: number };
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
}

test(
  "a killed canary instance is detected by the contract; the record's detect and restore agree with the service's events and the load generator",
  { timeout: 120_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t, { instances: 1, steps: STEPS, contract: CONTRACT });
    await server.apply(serviceSpec({ version: '2.0.0', listenPort, instances: 1, steps: STEPS, contract: CONTRACT }));
    await server.waitFor((s) => s.appliedWeights['2.0.0'] === 10, 'the canary at 10%');
    const url = `http://127.0.0.1:${listenPort}/`;
    const load = startLoad({ url, rps: 200, durationMs: 60_000 });
    t.after(() => load.stop());

    const spec = drill('kill-canary', url, '{ target: instance, kill: 1, version: canary, for: 20s }');
    const r = await server.api<DrillRecord>('POST', '/api/gamedays/run', { spec, file: 'drill.yaml', wait: true });
    await load.stop();
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const record = r.body;
    assert.equal(record.status, 'passed', record.detail ?? '');
    const kill = record.timeline.find((e) => e.type === 'drill.instanceFault')!;
    assert.match(kill.text, /revision 2's instance\(s\) 2-1 killed \(SIGKILL\)/);
    const events = await server.api<{ events: ServiceEvent[] }>('GET', '/api/services/checkout/events');
    const fail = events.body.events.find((e) => e.type === 'rollback.started' && e.at >= kill.at)!;
    assert.ok(fail, 'the contract failed the canary');
    const reverted = events.body.events.find((e) => e.type === 'rollback.trafficReverted' && e.at >= fail.at)!;
    // The record times the kill from its signal, the timeline entry from when it was logged just after.
    assert.ok(
      Math.abs(record.timeToDetectMs! - (fail.at - kill.at)) <= 50,
      `detect: record ${record.timeToDetectMs} ms, timeline ${fail.at - kill.at} ms`,
    );
    assert.ok(record.timeToDetectMs! < 5000, `detected in ${record.timeToDetectMs} ms`);
    assert.ok(
      record.timeToRestoreMs !== null && record.timeToRestoreMs <= reverted.at - kill.at + 50,
      `restored in ${record.timeToRestoreMs} ms, the revert came ${reverted.at - kill.at} ms after the kill`,
    );
    // What the load generator saw on its own: canary answers before the kill, none once the revert is done.
    const offset = performance.timeOrigin + performance.now() - Date.now();
    const canary = load.samples.filter((s) => s.version === '2.0.0').map((s) => s.start - offset);
    assert.ok(
      canary.some((at) => at < kill.at),
      'the canary answered the load generator before the kill',
    );
    const late = canary.filter((at) => at > reverted.at + 200);
    assert.equal(late.length, 0, `${late.length} canary answers after the revert`);
    t.diagnostic(
      `detect ${record.timeToDetectMs} ms, restore ${record.timeToRestoreMs} ms; load generator: ${load.samples.filter((s) => s.status === 0 || s.status >= 500).length} failed of ${load.samples.length}`,
    );
    assert.ok(
      record.timeline.findIndex((e) => e.type === 'rollback.started') >
        record.timeline.findIndex((e) => e.type === 'drill.instanceFault'),
      'the rollback follows the kill in the timeline',
    );
  },
);

test('a SIGSTOPped stable instance is resumed by gameday stop --all within 1 s', { timeout: 90_000 }, async (t) => {
  const { server, listenPort } = await deployedServer(t, { instances: 1 });
  const url = `http://127.0.0.1:${listenPort}/`;
  const instanceUrl = (await server.status()).instances['1.0.0']![0]!.url;
  const spec = drill('stop-stable', url, '{ target: instance, stop: 1, for: 60s }');
  const started = await server.api('POST', '/api/gamedays/run', { spec, file: 'drill.yaml' });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const until = Date.now() + 10_000;
  while (processState(server, '1') !== 'T') {
    assert.ok(Date.now() < until, 'the instance was never stopped');
    await new Promise((r) => setTimeout(r, 50));
  }
  const silent = await httpGet(instanceUrl, 500);
  assert.ok('error' in silent, `a stopped instance answered: ${JSON.stringify(silent)}`);

  const pulled = Date.now();
  const lever = spawnSync(
    process.execPath,
    [CLI, 'gameday', 'stop', '--all', '--server', server.url, '--token', server.token],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.equal(lever.status, 0, lever.stderr);
  // The lever answers once the instance is resumed: it answers at once, and the lever took under 1 s server-side.
  const answer = await httpGet(instanceUrl, 1000);
  assert.ok(!('error' in answer), `the instance does not answer after the lever: ${JSON.stringify(answer)}`);
  assert.notEqual(processState(server, '1'), 'T');
  const leverMs = Number(/in ([\d.]+) ms/.exec(lever.stdout)?.[1]);
  assert.ok(leverMs < 1000, `the lever took ${leverMs} ms: ${lever.stdout}`);
  const ended = Date.now() + 10_000;
  let record = (await server.api<DrillRecord>('GET', '/api/gamedays/stop-stable')).body;
  while (record.status === 'running') {
    assert.ok(Date.now() < ended, 'the stopped drill never ended');
    await new Promise((r) => setTimeout(r, 100));
    record = (await server.api<DrillRecord>('GET', '/api/gamedays/stop-stable')).body;
  }
  assert.equal(record.status, 'aborted');
  const resume = record.timeline.find((e) => e.type === 'drill.instanceFault' && /resumed/.test(e.text));
  assert.ok(resume, JSON.stringify(record.timeline));
  assert.ok(resume.at >= pulled, 'resumed by the lever');
  t.diagnostic(`the lever took ${leverMs} ms server-side, the CLI ${Date.now() - pulled} ms with its start-up`);
});

test(
  'a stopped instance outlives no controller: killed mid-stop, the instance resumes at the end of its for',
  { timeout: 90_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t, { instances: 1 });
    const url = `http://127.0.0.1:${listenPort}/`;
    const instanceUrl = (await server.status()).instances['1.0.0']![0]!.url;
    const spec = drill('stop-and-die', url, '{ target: instance, stop: 1, for: 3s }');
    const started = await server.api('POST', '/api/gamedays/run', { spec, file: 'drill.yaml' });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const until = Date.now() + 10_000;
    while (processState(server, '1') !== 'T') {
      assert.ok(Date.now() < until, 'the instance was never stopped');
      await new Promise((r) => setTimeout(r, 20));
    }
    const stoppedAt = Date.now();
    await server.kill('SIGKILL');
    const resumeBy = stoppedAt + 3000 + 1500;
    let answer = await httpGet(instanceUrl, 300);
    while ('error' in answer && Date.now() < resumeBy) answer = await httpGet(instanceUrl, 300);
    const resumedAfter = Date.now() - stoppedAt;
    assert.ok(!('error' in answer), `still stopped ${resumedAfter} ms after the stop, with its controller dead`);
    assert.notEqual(processState(server, '1'), 'T');
    assert.ok(resumedAfter >= 2500, `resumed ${resumedAfter} ms after the stop: before its for (3 s) ran out`);
    t.diagnostic(`controller SIGKILLed; the instance answered again ${resumedAfter} ms after its 3 s stop began`);
  },
);

test('instance faults are refused clearly where they cannot run', { timeout: 60_000 }, async (t) => {
  const { server, listenPort } = await deployedServer(t, { instances: 1 });
  const url = `http://127.0.0.1:${listenPort}/`;
  const run = (fault: string) =>
    server.api<ErrorBody>('POST', '/api/gamedays/run', { spec: drill('x', url, fault), file: 'drill.yaml' });
  const cases: [string, number, RegExp][] = [
    [
      '{ target: instance, kill: 2 }',
      409,
      /spec\.method\[0\]\.fault\.kill: 2 instance\(s\) asked, but revision 1 of checkout runs 1/,
    ],
    ['{ target: instance, kill: 1, version: canary }', 409, /fault\.version: checkout has no canary revision now/],
    ['{ target: instance, stop: 1 }', 400, /a stop fault says how long the instances stay stopped/],
    ['{ target: instance, kill: 1, errors: 503 }', 400, /one action, no traffic effect/],
    ['{ target: stable, kill: 1, for: 5s }', 400, /kill, stop, restart and version are for target: instance/],
  ];
  for (const [fault, status, message] of cases) {
    const r = await run(fault);
    assert.equal(r.status, status, `${fault}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error.message, message);
  }
});
