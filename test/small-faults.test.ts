/**
 * Small faults found by the attack on Sluice (issue 10), each against a real server: a token
 * lifetime past what a date can hold, a listen port out of range, and a `sluice server` launcher
 * (an older Node re-running Sluice on the pinned Node 24) killed with SIGKILL.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CLI, freePort, ROOT, serviceSpec, SluiceServer } from './support/sluice.ts';

type ErrorBody = { error: { code: string; message: string } };
let server: SluiceServer;
before(async () => {
  server = await SluiceServer.start();
});
after(() => server.close());

test('a token lifetime past 10 years is refused at creation; the token list never fails', async () => {
  const r = await server.api<ErrorBody>('POST', '/api/tokens', {
    role: 'viewer',
    name: 'forever',
    ttl: '99999999999999999999d',
  });
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.match(
    r.body.error.message,
    /ttl "99999999999999999999d" is longer than the longest lifetime, 3650d \(10 years\); leave ttl out/,
  );
  assert.equal((await server.api('POST', '/api/tokens', { role: 'viewer', name: 'decade', ttl: '3650d' })).status, 200);
  assert.equal((await server.api('GET', '/api/tokens')).status, 200);
});

test('listen: 127.0.0.1:99999 fails lint and apply, naming the field and the valid range', async () => {
  const spec = serviceSpec({ version: '1.0.0', listenPort: 99999, instances: 1 });
  for (const path of ['/api/lint', '/api/apply']) {
    const r = await server.api<ErrorBody>('POST', path, { spec, file: 'shop.yaml' });
    assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error.message, /spec\.router\.listen: port 99999 is out of range: a port is 1\.\.65535/);
  }
});

test('a SIGKILL of the sluice server launcher stops the server it started', { timeout: 60_000 }, async (t) => {
  // The launcher path runs when Sluice is started by a Node older than 22.18: Debian's is one.
  const oldNode = '/usr/bin/node';
  assert.ok(existsSync(oldNode), `${oldNode} is needed to run the launcher (an older Node)`);
  const version = spawnSync(oldNode, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const [major, minor] = version.slice(1).split('.').map(Number) as [number, number];
  assert.ok(
    major < 22 || (major === 22 && minor < 18),
    `${oldNode} is ${version}: the launcher runs only under Node < 22.18`,
  );
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-launcher-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const launcher = spawn(oldNode, [CLI, 'server', '--data-dir', dataDir, '--port', String(port)], {
    cwd: ROOT,
    stdio: 'ignore',
    env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' },
  });
  const answers = async () =>
    fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
  const until = Date.now() + 30_000;
  while (!(await answers())) {
    assert.ok(Date.now() < until, 'the server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const real = spawnSync('pgrep', ['-P', String(launcher.pid)], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .map(Number)
    .filter((n) => n > 0);
  assert.equal(real.length, 1, 'the launcher started one server process');
  t.after(() => {
    try {
      process.kill(real[0]!, 'SIGKILL');
    } catch {
      /* gone */
    }
  });
  launcher.kill('SIGKILL');
  const killedAt = Date.now();
  while (await answers()) {
    assert.ok(Date.now() - killedAt < 5000, 'the server still answers 5 s after its launcher was killed');
    await new Promise((r) => setTimeout(r, 50));
  }
  const gone = Date.now() + 5000;
  while (isRunning(real[0]!) && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
  assert.ok(!isRunning(real[0]!), 'the real server exited');
  // It let go of the data dir: a new server starts on it.
  const next = spawn(process.execPath, [CLI, 'server', '--data-dir', dataDir, '--port', String(port)], {
    cwd: ROOT,
    stdio: 'ignore',
    env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' },
  });
  t.after(() => next.kill('SIGKILL'));
  const again = Date.now() + 30_000;
  while (!(await answers())) {
    assert.ok(next.exitCode === null && Date.now() < again, 'a new server could not start on the data dir');
    await new Promise((r) => setTimeout(r, 100));
  }
});

/** Alive and not a zombie waiting to be reaped. */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
