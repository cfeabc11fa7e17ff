import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));

interface Running {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

/** Starts the service on an ephemeral port and resolves with its address, read from its stdout. */
async function startService(t: { after: (fn: () => void) => void }, env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as string | null,
  }));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`service did not start in 10s; stderr: ${stderr}`)), 10_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code} before listening; stderr: ${stderr}`));
    });
  });
  return { child, url, exited };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms}ms`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

test('healthz answers ok and other paths answer JSON with the version header', async (t) => {
  const svc = await startService(t, { SLUICE_VERSION: '1.2.3', FAIL_RATE: '1' });
  const health = await fetch(`${svc.url}/healthz`);
  assert.equal(health.status, 200, 'healthz is not affected by FAIL_RATE');
  assert.equal(await health.text(), 'ok');

  const svc2 = await startService(t, { VERSION: '9.9.9' });
  const res = await fetch(`${svc2.url}/cart/items?x=1`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-version'), '9.9.9');
  const body = (await res.json()) as { version: string; path: string; instance: string };
  assert.equal(body.version, '9.9.9');
  assert.equal(body.path, '/cart/items');
  assert.equal(body.instance, `pid-${svc2.child.pid}`);
});

test('FAIL_RATE=1 answers every request with 500 and the version', async (t) => {
  const svc = await startService(t, { SLUICE_VERSION: '2.0.0', FAIL_RATE: '1', BASE_LATENCY_MS: '0' });
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${svc.url}/pay`);
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('x-version'), '2.0.0');
    assert.deepEqual(await res.json(), { error: 'injected failure', version: '2.0.0' });
  }
});

test('FAIL_RATE=0.1 fails about a tenth of 500 requests', async (t) => {
  const svc = await startService(t, { FAIL_RATE: '0.1', BASE_LATENCY_MS: '0' });
  let failures = 0;
  for (let i = 0; i < 500; i++) {
    const res = await fetch(`${svc.url}/`);
    await res.arrayBuffer();
    if (res.status === 500) failures += 1;
  }
  assert.ok(failures >= 40 && failures <= 60, `expected ~50 failures, got ${failures}`);
});

test('FAIL_AFTER_MS starts the failures mid-run, with the FAIL_STATUS given', async (t) => {
  const svc = await startService(t, { FAIL_RATE: '1', FAIL_AFTER_MS: '600', FAIL_STATUS: '404', BASE_LATENCY_MS: '0' });
  const statusNow = async () => {
    const res = await fetch(`${svc.url}/`);
    await res.arrayBuffer();
    return res.status;
  };
  assert.equal(await statusNow(), 200, 'healthy before FAIL_AFTER_MS');
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(await statusNow(), 404);
});

test('EXTRA_LATENCY_MS delays answers but not readiness', async (t) => {
  const svc = await startService(t, { EXTRA_LATENCY_MS: '300' });
  let started = performance.now();
  await (await fetch(`${svc.url}/healthz`)).text();
  assert.ok(performance.now() - started < 250, 'healthz is not delayed');
  started = performance.now();
  await (await fetch(`${svc.url}/slow`)).text();
  const took = performance.now() - started;
  assert.ok(took >= 300 && took < 1500, `expected ~302ms, took ${took}ms`);
});

test('SLOW_WHEN_HEADER delays only the requests carrying that header', async (t) => {
  const svc = await startService(t, { EXTRA_LATENCY_MS: '300', SLOW_WHEN_HEADER: 'x-sluice-flag-new-checkout: on' });
  const timed = async (variant: string) => {
    const started = performance.now();
    await (await fetch(`${svc.url}/`, { headers: { 'x-sluice-flag-new-checkout': variant } })).text();
    return performance.now() - started;
  };
  const off = await timed('off');
  const on = await timed('on');
  assert.ok(off < 250, `off is not delayed, took ${off}ms`);
  assert.ok(on >= 300 && on < 1500, `on: expected ~302ms, took ${on}ms`);
});

test('an invalid setting exits 2 and names the variable', async () => {
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, FAIL_RATE: '1.5' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code] = await withTimeout(once(child, 'exit'), 10_000, 'exit');
  assert.equal(code, 2);
  assert.match(stderr, /FAIL_RATE="1.5" is not valid; write a fraction from 0 to 1/);
});

test('CRASH_AFTER_MS exits 1 on its own', async (t) => {
  const svc = await startService(t, { CRASH_AFTER_MS: '100' });
  const { code } = await withTimeout(svc.exited, 10_000, 'crash');
  assert.equal(code, 1);
});

test('SIGTERM lets an in-flight slow request finish, closes idle keep-alive sockets, exits 0', async (t) => {
  const svc = await startService(t, { EXTRA_LATENCY_MS: '800', SLUICE_VERSION: '1.0.0' });
  const agent = new http.Agent({ keepAlive: true });
  t.after(() => agent.destroy());
  const get = (path: string) =>
    new Promise<{ status: number; body: string; ms: number }>((resolve, reject) => {
      const started = performance.now();
      http
        .get(`${svc.url}${path}`, { agent }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - started }));
        })
        .on('error', reject);
    });

  const slow = get('/slow');
  // A request answered after the slow one was sent proves the slow one has reached the server;
  // it also leaves an idle keep-alive socket that the server must close to exit.
  await get('/healthz');
  assert.ok(agent.freeSockets && Object.keys(agent.freeSockets).length > 0, 'an idle keep-alive socket is open');

  const signalled = performance.now();
  svc.child.kill('SIGTERM');
  const answer = await withTimeout(slow, 5000, 'slow request');
  assert.equal(answer.status, 200);
  assert.equal(JSON.parse(answer.body).version, '1.0.0');
  assert.ok(answer.ms >= 800, `slow request took its full latency (${answer.ms}ms)`);

  const { code } = await withTimeout(svc.exited, 5000, 'exit after SIGTERM');
  assert.equal(code, 0);
  assert.ok(performance.now() - signalled < 3000, 'exited within a few seconds');
});
