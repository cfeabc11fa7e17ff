/**
 * The `sluice` command against a real server: the release workflow a person or a CI pipeline
 * drives, with the exit codes scripts rely on.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CLI, freePort, ROOT, serviceSpec, SluiceServer } from './support/sluice.ts';

let server: SluiceServer;
let listenPort: number;
/** A deployer token named carol: the actor of every command below. */
let carol: string;

function sluice(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: ROOT, env: { ...process.env, SLUICE_SERVER: server.url, SLUICE_TOKEN: carol }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `sluice wait` that, when it does not exit as expected, fails with the status and the server log. */
async function waitFor(phase: string, timeout = '45s', expected = 0): Promise<void> {
  const r = await sluice('wait', 'checkout', '--for', phase, '--timeout', timeout);
  if (r.code === expected) return;
  const status = await sluice('status', 'checkout', '-o', 'json');
  assert.fail(
    `wait --for ${phase} exited ${r.code}, expected ${expected}: ${r.stdout}${r.stderr}\nstatus: ${status.stdout}\nserver log:\n${server.log.slice(-4000)}`,
  );
}

function specFile(name: string, text: string): string {
  const path = join(server.dataDir, name);
  writeFileSync(path, text);
  return path;
}

before(async () => {
  server = await SluiceServer.start();
  carol = await server.createToken('deployer', 'carol');
  listenPort = await freePort();
});
after(() => server.close());

test('apply, status, promote at an open pause, pause and resume, history', { timeout: 90_000 }, async () => {
  const v1 = specFile('v1.yaml', serviceSpec({ version: '1.0.0', listenPort, instances: 1 }));
  assert.match((await sluice('apply', '-f', v1)).stdout, /checkout: created/);
  await waitFor('healthy');

  const steps = ['setWeight: 25', 'pause: {}', 'setWeight: 50', 'pause: { duration: 30s }'];
  const v2 = specFile('v2.yaml', serviceSpec({ version: '2.0.0', listenPort, instances: 1, steps }));
  assert.match((await sluice('apply', '-f', v2)).stdout, /checkout: released/);
  await waitFor('paused');
  const status = JSON.parse((await sluice('status', 'checkout', '-o', 'json')).stdout);
  for (const field of [
    'service',
    'phase',
    'stableVersion',
    'canaryVersion',
    'weights',
    'step',
    'verdicts',
    'lastRollback',
  ])
    assert.ok(field in status, field);
  assert.equal(status.phase, 'Paused');
  assert.deepEqual(status.weights, { '1.0.0': 75, '2.0.0': 25 });
  assert.match(
    (await sluice('status', 'checkout')).stdout,
    /checkout {2}Paused {2}stable 1\.0\.0 {2}canary 2\.0\.0\ntraffic {2}1\.0\.0 75% {2}2\.0\.0 25%/,
  );

  const resumeAtStep = await sluice('resume', 'checkout');
  assert.equal(resumeAtStep.code, 1);
  assert.match(resumeAtStep.stderr, /waits for promote: use promote/);
  const promoted = JSON.parse((await sluice('promote', 'checkout', '-o', 'json')).stdout);
  assert.deepEqual(promoted.weights, { '1.0.0': 50, '2.0.0': 50 });
  assert.equal(JSON.parse((await sluice('pause', 'checkout', '-o', 'json')).stdout).phase, 'Paused');
  assert.equal(JSON.parse((await sluice('resume', 'checkout', '-o', 'json')).stdout).phase, 'Progressing');
  await sluice('promote', 'checkout', '--full');
  await waitFor('healthy');

  const history = JSON.parse((await sluice('history', 'checkout', '-o', 'json')).stdout);
  assert.deepEqual(
    history.map((r: { status: string; startedBy: string }) => `${r.status}:${r.startedBy}`),
    ['Succeeded:carol', 'Succeeded:carol'],
  );
});

test('abort, retry, undo, and wait exit codes', { timeout: 90_000 }, async () => {
  const steps = ['setWeight: 30', 'pause: {}'];
  const v3 = specFile('v3.yaml', serviceSpec({ version: '3.0.0', listenPort, instances: 1, steps }));
  await sluice('apply', '-f', v3);
  await waitFor('paused');
  const timedOut = await sluice('wait', 'checkout', '--for', 'healthy', '--timeout', '1s');
  assert.equal(timedOut.code, 4);
  assert.match(timedOut.stdout, /still Paused after 1s; wanted Healthy/);
  const waiting = sluice('wait', 'checkout', '--for', 'healthy', '--timeout', '30s');
  const aborted = JSON.parse((await sluice('abort', 'checkout', '--reason', 'looks odd', '-o', 'json')).stdout);
  assert.equal(aborted.phase, 'Aborted');
  assert.equal(aborted.lastRollback.reason, 'looks odd');
  assert.equal(aborted.lastRollback.actor, 'carol');
  const w = await waiting;
  assert.equal(w.code, 1, 'wait --for healthy fails once the release ends otherwise');
  assert.match(w.stdout, /Aborted, not Healthy/);

  assert.equal(JSON.parse((await sluice('retry', 'checkout', '-o', 'json')).stdout).release.kind, 'retry');
  await waitFor('paused');
  await sluice('promote', 'checkout', '--full');
  await waitFor('healthy');
  assert.equal(JSON.parse((await sluice('status', 'checkout', '-o', 'json')).stdout).stableVersion, '3.0.0');

  // undo: back to the previous stable revision (2.0.0), through the steps again.
  const undo = JSON.parse((await sluice('undo', 'checkout', '-o', 'json')).stdout);
  assert.equal(undo.release.kind, 'undo');
  assert.equal(undo.release.toVersion, '2.0.0');
  await waitFor('paused');
  await sluice('promote', 'checkout', '--full');
  await waitFor('healthy');
  assert.equal(JSON.parse((await sluice('status', 'checkout', '-o', 'json')).stdout).stableVersion, '2.0.0');
  assert.equal(
    (await sluice('wait', 'checkout', '--for', 'paused', '--timeout', '1s')).code,
    1,
    'no release in progress: it cannot pause',
  );
});

test('usage errors exit 2, an unreachable server exits 3, lint needs no server', async () => {
  const unknown = await sluice('promote', 'checkout', '--fulll');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown flag --fulll; valid: .*--full/);
  assert.equal((await sluice('wait', 'checkout', '--for', 'done')).code, 2);
  assert.equal((await sluice('frobnicate')).code, 2);
  const down = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(process.execPath, [CLI, 'status', '--server', 'http://127.0.0.1:9'], (err, _o, stderr) =>
      resolve({ code: (err as { code?: number } | null)?.code ?? 0, stderr }),
    ),
  );
  assert.equal(down.code, 3);
  assert.match(down.stderr, /cannot reach the sluice server at http:\/\/127\.0\.0\.1:9/);
  const bad = specFile(
    'bad.yaml',
    serviceSpec({ version: '9', listenPort }).replace('minSamples: 20', 'minSamples: -1'),
  );
  const lint = await sluice('lint', '-f', bad);
  assert.equal(lint.code, 1);
  assert.match(lint.stderr, /bad\.yaml:\d+:\d+: spec\.rollbackContract\.minSamples: /);
  const schema = JSON.parse((await sluice('schema')).stdout);
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
});

test('status --watch redraws on every event and stops cleanly on Ctrl-C', { timeout: 60_000 }, async (t) => {
  const watch = spawn(process.execPath, [CLI, 'status', 'checkout', '--watch'], {
    cwd: ROOT,
    env: { ...process.env, SLUICE_SERVER: server.url, SLUICE_TOKEN: carol },
  });
  t.after(() => {
    if (watch.exitCode === null && watch.signalCode === null) watch.kill('SIGKILL');
  });
  let out = '';
  watch.stdout.on('data', (d) => (out += d));
  const seen = async (re: RegExp) => {
    const until = Date.now() + 30_000;
    while (!re.test(out)) {
      if (Date.now() > until) throw new Error(`watch never showed ${re}:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await seen(/checkout {2}Healthy/);
  const v4 = specFile(
    'v4.yaml',
    serviceSpec({ version: '4.0.0', listenPort, instances: 1, steps: ['setWeight: 40', 'pause: {}'] }),
  );
  await sluice('apply', '-f', v4);
  await seen(/checkout {2}Paused {2}stable (\S+) {2}canary 4\.0\.0\ntraffic {2}\1 60% {2}4\.0\.0 40%/);
  await sluice('abort', 'checkout');
  await seen(/checkout {2}Aborted/);
  const exited = new Promise<number | null>((r) => watch.once('exit', (code) => r(code)));
  watch.kill('SIGINT');
  assert.equal(await exited, 0);
});
