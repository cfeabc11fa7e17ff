/**
 * A release train that obeys approvals and release windows as such (docs/trains.md), with real
 * servers, real processes and traffic through the built-in proxy: a train with spec.approvals
 * waits, nothing started, until an approver who did not apply it approves (a deployer is refused
 * naming the role, the applier by four-eyes; a rejected run starts nothing, a retry asks again);
 * a train with spec.window waits while the server's release policy freezes its service, saying
 * why and until when, and goes on when the freeze is lifted. A window that names another policy
 * is refused at apply, naming the field.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import type { TrainView } from '../src/views/index.ts';
import { callAs } from './support/environments.ts';
import { startLoad } from './support/load.ts';
import { CLI, freePort, ROOT, serviceSpec, SluiceServer } from './support/sluice.ts';

const train = (name: string, extra: string) => `apiVersion: sluice.dev/v1alpha1
kind: ReleaseTrain
metadata: { name: ${name} }
spec:
  services:
    - { name: payments, version: "2.0.0" }
${extra}`;

const policy = (freezes: string) => `apiVersion: sluice.dev/v1alpha1
kind: ReleasePolicy
metadata: { name: ops }
spec:
  freezes:
${freezes}`;

/** A server running payments 1.0.0 under traffic; each test's train releases 2.0.0. */
async function paymentsServer(t: { after: (fn: () => Promise<unknown>) => void }) {
  const server = await SluiceServer.start();
  t.after(() => server.close());
  const port = await freePort();
  const spec = (version: string) =>
    serviceSpec({
      name: 'payments',
      version,
      listenPort: port,
      instances: 1,
      steps: ['setWeight: 50', 'pause: { duration: 1s }'],
      contract: `    interval: 200ms
    window: 2s
    minSamples: 20
    rules:
      - { metric: error_rate, failIf: { above: baseline, by: 0.05 } }`,
    });
  await server.apply(spec('1.0.0'));
  await server.waitForPhase('Healthy', 30_000, 'payments');
  const load = startLoad({ url: `http://127.0.0.1:${port}/`, rps: 100, durationMs: 60_000 });
  t.after(() => load.stop());
  const trainOf = async (name: string) => (await server.api<TrainView>('GET', `/api/trains/${name}`)).body;
  const until = async (name: string, done: (v: TrainView) => boolean, what: string) => {
    const end = Date.now() + 25_000;
    for (;;) {
      const v = await trainOf(name);
      if (done(v)) return v;
      if (Date.now() > end) assert.fail(`${what}: ${JSON.stringify(v, null, 2)}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  };
  return { server, trainOf, until };
}

test(
  'a train with spec.approvals waits for an approver who did not apply it, then runs',
  { timeout: 60_000 },
  async (t) => {
    const { server, trainOf, until } = await paymentsServer(t);
    const ann = await server.createToken('approver', 'ann');
    const bob = await server.createToken('approver', 'bob');
    const dora = await server.createToken('deployer', 'dora');
    const applied = await callAs<{ results: { action: string; message: string }[] }>(
      server,
      ann,
      'POST',
      '/api/apply',
      {
        spec: train('gated', '  approvals: { required: 1, role: approver }\n'),
        file: 'train.yaml',
        baseDir: ROOT,
      },
    );
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    assert.deepEqual(
      applied.body.results.map((r) => `${r.action}: ${r.message}`),
      ['waiting: train gated: waiting for approval: 0 of 1 approver (sluice train approve gated)'],
    );
    await new Promise((r) => setTimeout(r, 600));
    const waiting = await trainOf('gated');
    assert.equal(waiting.status, 'WaitingForApproval');
    assert.match(waiting.detail, /^waiting for approval: 0 of 1 approver/);
    assert.deepEqual(
      waiting.services.map((s) => `${s.name}:${s.status}`),
      ['payments:waiting'],
    );
    const payments = await server.status('payments');
    assert.equal(payments.stableVersion, '1.0.0');
    assert.equal(payments.canaryVersion, null, 'no service started while the train waits');

    const approve = (token: string, comment?: string) =>
      callAs<TrainView & { error: { message: string } }>(
        server,
        token,
        'POST',
        '/api/trains/gated/approve',
        comment === undefined ? {} : { comment },
      );
    const deployer = await approve(dora);
    assert.equal(deployer.status, 403);
    assert.match(
      deployer.body.error.message,
      /role deployer; POST \/api\/trains\/:name\/approve needs approver or above/,
    );
    const own = await approve(ann);
    assert.equal(own.status, 403);
    assert.match(own.body.error.message, /ann requested run 1 of train gated and cannot approve it \(four-eyes\)/);
    assert.equal((await trainOf('gated')).status, 'WaitingForApproval');

    // A rejection ends the run with nothing started; a retry is a new run that asks again.
    const reject = (body: object) =>
      callAs<TrainView & { error: { message: string } }>(server, bob, 'POST', '/api/trains/gated/reject', body);
    const silent = await reject({});
    assert.equal(silent.status, 400);
    assert.match(silent.body.error.message, /comment: say why the run is rejected/);
    const rejected = await reject({ comment: 'not before the freeze review' });
    assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
    assert.equal(rejected.body.status, 'Rejected');
    assert.deepEqual(
      rejected.body.services.map((s) => `${s.name}:${s.status}`),
      ['payments:held'],
    );
    assert.equal((await server.status('payments')).canaryVersion, null);
    const retried = await callAs<TrainView>(server, ann, 'POST', '/api/trains/gated/retry', {});
    assert.equal(retried.body.status, 'WaitingForApproval', 'a new run asks for its own approval');
    assert.equal(retried.body.run, 2);
    assert.deepEqual(retried.body.approval?.given, []);

    // bob approves with the CLI; the train starts and completes.
    const cli = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [CLI, 'train', 'approve', 'gated', '--comment', 'release notes read'],
        { cwd: ROOT, env: { ...process.env, SLUICE_SERVER: server.url, SLUICE_TOKEN: bob } },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /approvals: 1 of 1 \(approver\): bob \("release notes read"\)/);
    const done = await until('gated', (v) => !['WaitingForApproval', 'Running'].includes(v.status), 'the train ends');
    assert.equal(done.status, 'Succeeded', JSON.stringify(done, null, 2));
    assert.equal((await server.status('payments')).stableVersion, '2.0.0');
    assert.deepEqual(done.timeline!.map((e) => `${e.type} ${e.actor}`).slice(0, 3), [
      'train.started ann',
      'train.approved bob',
      'train.serviceStarted sluice-controller',
    ]);
    assert.equal((await approve(bob)).status, 409, 'nothing to approve once it ran');
  },
);

test(
  'a train with spec.window waits while the release policy freezes its service, then goes on',
  { timeout: 60_000 },
  async (t) => {
    const { server, trainOf, until } = await paymentsServer(t);
    const apply = (text: string) =>
      server.api<{ results: { action: string }[]; error: { message: string } }>('POST', '/api/apply', {
        spec: text,
        file: 'train.yaml',
        baseDir: ROOT,
      });
    const windowed = train('windowed', '  window: { policy: ops }\n');
    const none = await apply(windowed);
    assert.equal(none.status, 400);
    assert.match(
      none.body.error.message,
      /train\.yaml:7:\d+: spec\.window\.policy: "ops": no release policy is installed on this server/,
    );
    const end = new Date(Date.now() + 3_600_000).toISOString();
    const freeze = policy(
      `    - { name: peak, from: "2020-01-01T00:00:00Z", until: "${end}", reason: peak traffic, services: [payments] }\n`,
    );
    await server.apply(freeze);
    const other = await apply(windowed.replace('policy: ops', 'policy: default'));
    assert.equal(other.status, 400);
    assert.match(
      other.body.error.message,
      /spec\.window\.policy: "default" is not the server's release policy; valid: "ops"/,
    );

    assert.equal((await apply(windowed)).status, 200);
    const waiting = await until('windowed', (v) => v.window?.waiting != null, 'the train records its wait');
    assert.equal(waiting.status, 'Running');
    assert.match(waiting.detail, /^waiting for the release window: freeze "peak" \(peak traffic\) until \d{4}-/);
    assert.equal(waiting.window!.waiting!.until!.slice(0, 19), end.slice(0, 19));
    assert.deepEqual(
      waiting.services.map((s) => `${s.name}:${s.status}`),
      ['payments:waiting'],
    );
    await new Promise((r) => setTimeout(r, 600));
    assert.equal((await server.status('payments')).canaryVersion, null, 'nothing starts while frozen');
    assert.deepEqual(
      (await trainOf('windowed')).timeline!.map((e) => e.type),
      ['train.started', 'train.windowClosed'],
      'the wait is recorded once',
    );

    await server.apply(policy('    []\n'));
    const done = await until('windowed', (v) => v.status !== 'Running', 'the train ends once the freeze is lifted');
    assert.equal(done.status, 'Succeeded', JSON.stringify(done, null, 2));
    assert.equal((await server.status('payments')).stableVersion, '2.0.0');
    assert.deepEqual(done.timeline!.map((e) => e.type).slice(0, 4), [
      'train.started',
      'train.windowClosed',
      'train.windowOpened',
      'train.serviceStarted',
    ]);
  },
);
