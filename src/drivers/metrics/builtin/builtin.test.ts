import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { quantile } from '../../../core/histogram.ts';
import { builtinRouter } from '../../routers/builtin/index.ts';
import { freePort, keepAliveClient, load, startUpstream } from '../../routers/upstreams.ts';
import type { DriverContext } from '../../types.ts';
import { builtinMetrics } from './index.ts';

async function service(t: TestContext) {
  const serviceDir = await mkdtemp(join(tmpdir(), 'sluice-builtin-metrics-'));
  const ctx: DriverContext = { service: 'shop', serviceDir, log: () => {} };
  const port = await freePort();
  const router = builtinRouter.create(builtinRouter.config.parse({ driver: 'builtin', listen: `127.0.0.1:${port}` }), ctx);
  t.after(async () => {
    await router.shutdown();
    await rm(serviceDir, { recursive: true, force: true });
  });
  return { router, ctx, listenUrl: `http://127.0.0.1:${port}`, metrics: builtinMetrics.create({ provider: 'builtin' }, ctx) };
}

test('real traffic gives requests, errors and latency per revision key', async (t) => {
  const stable = await startUpstream(t, 'stable');
  // The canary is slow (~40 ms) and fails one request in four.
  let n = 0;
  const canary = await startUpstream(t, 'canary', (req, res) => {
    req.resume();
    setTimeout(() => res.writeHead(++n % 4 === 0 ? 503 : 200).end('canary'), 40);
  });
  const { router, listenUrl, metrics } = await service(t);
  await router.apply({
    backends: [
      { key: '2', version: 'v2', weight: 20, endpoints: [canary.url] },
      { key: '1', version: 'v1', weight: 80, endpoints: [stable.url] },
    ],
  });
  await load(listenUrl, keepAliveClient(t), 200, 8);

  const m = await metrics.collect(['1', '2'], 60_000);
  assert.equal(m['1']?.kind, 'stats');
  assert.equal(m['2']?.kind, 'stats');
  if (m['1']?.kind !== 'stats' || m['2']?.kind !== 'stats') return;
  assert.deepEqual([m['1'].stats.requests, m['1'].stats.errors], [160, 0]);
  assert.deepEqual([m['2'].stats.requests, m['2'].stats.errors], [40, 10]);
  const canaryP50 = quantile(m['2'].stats.latency, 0.5)!;
  const stableP50 = quantile(m['1'].stats.latency, 0.5)!;
  assert.ok(canaryP50 >= 38 && canaryP50 < 200, `canary p50 ${canaryP50} ms for a 40 ms upstream`);
  assert.ok(stableP50 < canaryP50, `stable p50 ${stableP50} ms is below the canary's`);
  assert.ok(m['2'].stats.windowMs > 0 && m['2'].stats.windowMs <= 60_000);
});

test('a key without requests in the window is noData', async (t) => {
  const stable = await startUpstream(t, 'stable');
  const { router, metrics } = await service(t);
  await router.apply({
    backends: [
      { key: '2', version: 'v2', weight: 0, endpoints: [] },
      { key: '1', version: 'v1', weight: 100, endpoints: [stable.url] },
    ],
  });
  const m = await metrics.collect(['1', '2', 'unknown'], 5_000);
  assert.deepEqual(m, { '1': { kind: 'noData' }, '2': { kind: 'noData' }, unknown: { kind: 'noData' } });
});

test('no proxy, a hung one or a dead one: an error measurement for every key, never a throw', async (t) => {
  const stable = await startUpstream(t, 'stable');
  const { router, ctx, metrics } = await service(t);
  const none = await metrics.collect(['1', '2'], 5_000);
  assert.equal(none['2']?.kind, 'error');
  if (none['1']?.kind === 'error') assert.match(none['1'].message, /service "shop": no built-in proxy is running/);
  else assert.fail(`expected an error, got ${JSON.stringify(none['1'])}`);

  await router.apply({ backends: [{ key: '1', version: 'v1', weight: 100, endpoints: [stable.url] }] });
  const { pid } = JSON.parse(await readFile(join(ctx.serviceDir, 'router', 'proxy.json'), 'utf8')) as { pid: number };

  process.kill(pid, 'SIGSTOP');
  t.after(() => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {}
  });
  const started = performance.now();
  const hung = await metrics.collect(['1'], 5_000);
  const took = performance.now() - started;
  assert.equal(hung['1']?.kind, 'error');
  if (hung['1']?.kind === 'error') assert.match(hung['1'].message, /did not answer .* no answer within 1000 ms/);
  assert.ok(took < 2_500, `collect took ${took} ms against a hung proxy`);

  process.kill(pid, 'SIGKILL');
  const dead = await metrics.collect(['1'], 5_000);
  assert.equal(dead['1']?.kind, 'error');
  if (dead['1']?.kind === 'error') assert.match(dead['1'].message, /ECONNREFUSED|ECONNRESET/);
});
