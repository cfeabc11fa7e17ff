/**
 * The demo's closing "Do it yourself" lines, run as printed in a fresh directory: the server, the
 * token step, the first apply and the delete all succeed (the first apply once failed with 401
 * because the token step was missing). Only `npx sluice` (this checkout's CLI), the API port and
 * the service's listen port (free ones, so tests can run side by side) are substituted.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DO_IT_YOURSELF } from '../examples/demo/summary.ts';
import { CLI, freePort, ROOT } from './support/sluice.ts';

const sluice = (command: string) =>
  command.replaceAll('npx sluice', `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)}`);

function sh(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', script], { cwd, env, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

test('the "Do it yourself" lines work as printed: server, token, first apply, delete', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-diy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const folder of ['checkout', 'service'])
    cpSync(join(ROOT, 'examples', folder), join(dir, 'examples', folder), { recursive: true });
  const listenPort = await freePort();
  const v1 = join(dir, 'examples/checkout/v1.yaml');
  writeFileSync(v1, readFileSync(v1, 'utf8').replace('127.0.0.1:8080', `127.0.0.1:${listenPort}`));

  const [serverLine, ...rest] = DO_IT_YOURSELF.map((line) => line.command);
  assert.match(serverLine!, /^npx sluice server\b/);
  const apiPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLUICE_SERVER: `http://127.0.0.1:${apiPort}`,
    SLUICE_LOG_LEVEL: 'warn',
  };
  delete env['SLUICE_TOKEN'];
  const args = serverLine!.replace(/^npx sluice /, '').split(' ');
  const server = spawn(process.execPath, [CLI, ...args, '--port', String(apiPort)], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  server.stdout.on('data', (d) => (log += d));
  server.stderr.on('data', (d) => (log += d));
  t.after(async () => {
    if (server.exitCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  });
  const until = Date.now() + 15_000;
  for (;;) {
    assert.equal(server.exitCode, null, `the server exited:\n${log}`);
    if (
      await fetch(`${env['SLUICE_SERVER']}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    assert.ok(Date.now() < until, `the server did not answer within 15 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  // Terminal 2, up to and including the first apply, in one shell as a person would type it.
  const firstApply = rest.findIndex((line) => line.includes('apply -f'));
  const terminal2 = rest
    .slice(0, firstApply + 1)
    .map(sluice)
    .join('\n');
  const applied = await sh(terminal2, dir, env);
  assert.equal(applied.code, 0, `${terminal2}\n→ ${applied.output}\nserver log:\n${log}`);
  // apply returns once the spec is stored; the instances start behind the proxy just after.
  const deployedBy = Date.now() + 15_000;
  let version: string | null = null;
  while (version === null && Date.now() < deployedBy) {
    version = await fetch(`http://127.0.0.1:${listenPort}/`).then(
      (r) => (r.ok ? r.headers.get('x-version') : null),
      () => null,
    );
    if (version === null) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(version, '1.0.0', `checkout 1.0.0 was not served within 15 s:\n${log}`);

  const token = rest.find((line) => line.includes('SLUICE_TOKEN'))!;
  const deleted = await sh(`${sluice(token)}\n${sluice(rest.find((line) => line.includes(' delete '))!)}`, dir, env);
  assert.equal(deleted.code, 0, deleted.output);
});
