import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { quantile } from '../../../core/analysis/histogram.ts';
import { builtinRouter } from '../../routers/builtin/index.ts';
import { freePort, keepAliveClient, load, startUpstream } from '../../routers/upstreams.ts';
import type { DriverContext } from '../../types.ts';
import { builtinMetrics } from './index.ts';

async function service(t: TestContext) {
  const serviceDir = await mkdtemp(join(tmpdir(), 'sluice-builtin-metrics-'));
  const ctx: DriverContext = { service: 'shop', serviceDir, log: () => {} };
  const port = await freePort();
  const router = builtinRouter.create(
    builtinRouter.config.parse({ driver: 'builtin', listen: `127.0.0.1:${port}` }),
    ctx,
  );
  t.after(async () => {
    await router.shutdown();
    await rm(serviceDir, { recursive: true, force: true });
  });
  return {
    router,
    ctx,
    listenUrl: `http://127.0.0.1:${port}`,
    metrics: builtinMetrics.create({ provider: 'builtin' }, ctx),
  };
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

/** A canary answering 404, 503, 200, 200 in turn, and its count of answers. */
async function notFoundThenUnavailable(t: TestContext) {
  let n = 0;
  return startUpstream(t, 'canary', (req, res) => {
    req.resume();
    const status = [404, 503, 200, 200][n++ % 4]!;
    res.writeHead(status).end('canary');
  });
}

test('404s, 503s and connection failures are counted apart, in the window and the totals', async (t) => {
  const stable = await startUpstream(t, 'stable');
  const canary = await notFoundThenUnavailable(t);
  const { router, listenUrl, metrics } = await service(t);
  // Revision 3's only endpoint refuses connections: each of its requests is a connect failure
  // (and, having no body, is retried once on another revision).
  const dead = await startUpstream(t, 'dead');
  await dead.close();
  await router.apply({
    backends: [
      { key: '2', version: 'v2', weight: 20, endpoints: [canary.url] },
      { key: '3', version: 'v3', weight: 10, endpoints: [dead.url] },
      { key: '1', version: 'v1', weight: 70, endpoints: [stable.url] },
    ],
  });
  await load(listenUrl, keepAliveClient(t), 200, 8);

  const m = await metrics.collect(['1', '2', '3'], 60_000);
  if (m['1']?.kind !== 'stats' || m['2']?.kind !== 'stats' || m['3']?.kind !== 'stats')
    return assert.fail(JSON.stringify(m));
  const c = m['2'];
  const s = c.stats.statuses!;
  assert.deepEqual(Object.keys(s).sort(), ['200', '404', '503']);
  assert.equal(s['404']! + s['503']! + s['200']!, c.stats.requests);
  assert.ok(Math.abs(s['404']! - s['503']!) <= 1 && s['404']! >= 10, `canary statuses ${JSON.stringify(s)}`);
  assert.equal(c.stats.errors, s['503'], 'a 404 is not an error; a 503 is');
  assert.deepEqual(c.totals?.statuses, s, 'the totals carry the same statuses');

  const d = m['3'];
  assert.ok(d.stats.requests >= 10);
  assert.deepEqual(d.stats.statuses, { connect: d.stats.requests });
  assert.equal(d.stats.errors, d.stats.requests);
  assert.deepEqual(d.totals?.statuses, { connect: d.totals?.requests });
  assert.deepEqual(
    m['1'].stats.statuses,
    { '200': m['1'].stats.requests },
    'retried requests are answered by the others',
  );
});

test('watch resolves at bad answers it has not reported, and only then', async (t) => {
  const stable = await startUpstream(t, 'stable');
  const canary = await notFoundThenUnavailable(t);
  const { router, listenUrl, metrics } = await service(t);
  const table = {
    backends: [
      { key: '2', version: 'v2', weight: 50, endpoints: [canary.url] },
      { key: '1', version: 'v1', weight: 50, endpoints: [stable.url] },
    ],
  };
  await router.apply(table);
  const agent = keepAliveClient(t);
  await load(listenUrl, agent, 6, 1); // the canary answers 3 of them: 404, 503, 200
  const signal = AbortSignal.timeout(20_000);
  await metrics.watch!('2', signal); // a 404 and a 503 it had not reported: at once

  // Reported: the next watch waits, through good answers, for a new bad one.
  let woke = false;
  const next = metrics.watch!('2', signal).then(() => (woke = true));
  await load(listenUrl, agent, 2, 1); // one each: the canary's is a 200
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(woke, false, 'no new bad answer yet');
  await load(listenUrl, agent, 6, 1);
  await next;
  assert.equal(woke, true);
  await assert.rejects(
    metrics.watch!('1', AbortSignal.timeout(300)),
    { name: 'TimeoutError' },
    'stable never answered badly: the watch ends only at its abort',
  );
});

test('watch reads a restarted proxy from its start, and waits out a missing one without throwing', async (t) => {
  const stable = await startUpstream(t, 'stable');
  const canary = await notFoundThenUnavailable(t);
  const { router, ctx, listenUrl, metrics } = await service(t);
  const table = {
    backends: [
      { key: '2', version: 'v2', weight: 50, endpoints: [canary.url] },
      { key: '1', version: 'v1', weight: 50, endpoints: [stable.url] },
    ],
  };
  await router.apply(table);
  const agent = keepAliveClient(t);
  await load(listenUrl, agent, 80, 4); // 20 bad answers on the first proxy
  const signal = AbortSignal.timeout(20_000);
  await metrics.watch!('2', signal);

  const { pid } = JSON.parse(await readFile(join(ctx.serviceDir, 'router', 'proxy.json'), 'utf8')) as { pid: number };
  process.kill(pid, 'SIGKILL');
  // No proxy for a while: the watch retries (with pauses) and neither throws nor resolves.
  let woke = false;
  const next = metrics.watch!('2', signal).then(() => (woke = true));
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(woke, false);
  await router.apply(table); // a new proxy: its counters start from 0
  const afterRestart = await load(listenUrl, agent, 4, 1); // one 404 from the canary, far fewer than 20
  assert.ok(afterRestart.some((a) => a.status === 404));
  await next;
  assert.equal(woke, true, 'a bad answer on the new proxy wakes the watch though its count is below the old one');

  const closing = metrics.watch!('2', AbortSignal.timeout(20_000));
  await metrics.close();
  await assert.rejects(closing, /the metrics provider was closed/);
});
