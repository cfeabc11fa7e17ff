import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { runSmoke } from './smoke-runner.ts';

const ctx = (signal = new AbortController().signal) => ({
  cwd: process.cwd(),
  env: { SLUICE_VERSION: '2.0.0' },
  signal,
});
const node = (code: string) => ({ command: [process.execPath, '-e', code] });

test('a command passes on exit 0, fails otherwise with its exit code and output, and sees the release environment', async () => {
  const ok = await runSmoke(node('process.exit(process.env.SLUICE_VERSION === "2.0.0" ? 0 : 5)'), 10_000, ctx());
  assert.equal(ok.ok, true, ok.detail);
  const bad = await runSmoke(node('console.error("checkout returned 502"); process.exit(3)'), 10_000, ctx());
  assert.equal(bad.ok, false);
  assert.match(bad.detail, /exited 3; output: checkout returned 502/);
  const missing = await runSmoke({ command: ['/nonexistent/smoke'] }, 10_000, ctx());
  assert.match(missing.detail, /could not run \/nonexistent\/smoke: .*ENOENT/);
});

test('a command over its timeout is killed with everything it started', async () => {
  // The child starts a grandchild that would outlive a plain kill; the process group goes.
  const code =
    'const c = require("node:child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" }); console.log(c.pid); setInterval(() => {}, 1000)';
  const started = Date.now();
  const r = await runSmoke(node(code), 500, ctx());
  assert.equal(r.ok, false);
  assert.match(r.detail, /did not finish within 500 ms and was killed/);
  assert.ok(Date.now() - started < 5000);
  const pid = Number(/output: (\d+)/.exec(r.detail)?.[1]);
  await new Promise((res) => setTimeout(res, 200));
  // Gone, or a zombie waiting for its new parent to reap it: either way it no longer runs.
  const state = (() => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    } catch {
      return 'gone';
    }
  })();
  assert.ok(state === 'gone' || state === 'Z', `the grandchild ${pid} is ${state}`);
});

test('an HTTP check passes on the expected status only', async (t) => {
  const server = http.createServer((req, res) => res.writeHead(req.url === '/ok' ? 200 : 503).end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  assert.equal((await runSmoke({ http: { url: `${base}/ok`, expectStatus: 200 } }, 2000, ctx())).ok, true);
  const bad = await runSmoke({ http: { url: `${base}/down`, expectStatus: 200 } }, 2000, ctx());
  assert.deepEqual([bad.ok, bad.detail], [false, `GET ${base}/down answered 503 (expected 200)`]);
});
