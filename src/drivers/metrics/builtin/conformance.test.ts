/**
 * The metrics conformance suite against the builtin provider. Values and no data come from a real
 * built-in proxy carrying real requests: the reading is the canary's error rate (an upstream that
 * answers every 4th request with 500 reads 0.25). A proxy that is gone, or an admin API that
 * answers a status, nonsense or late (an HTTP stand-in named in proxy.json), are the other cases.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { DriverContext } from '../../types.ts';
import type { Measurement } from '../types.ts';
import { ensureAdminSecret } from '../../routers/builtin/admin-secret.ts';
import { builtinRouter } from '../../routers/builtin/index.ts';
import { freePort, startUpstream } from '../../routers/upstreams.ts';
import { httpSource, metricsConformance, type Reading, type Scenario } from '../conformance.ts';
import { builtinMetrics } from './index.ts';

/** The provider's own limit on one admin API call (index.ts). */
const TIMEOUT_MS = 1000;
const REQUESTS = 40;

function errorRate(m: Measurement | undefined): Reading {
  if (m === undefined || m.kind !== 'stats') return m ?? { kind: 'error', message: 'no measurement for the key' };
  return { kind: 'value', value: m.stats.errors / m.stats.requests };
}

async function makeBuiltin(t: TestContext, scenario: Scenario) {
  const serviceDir = await mkdtemp(join(tmpdir(), 'sluice-metrics-conformance-'));
  t.after(() => rm(serviceDir, { recursive: true, force: true }));
  const ctx: DriverContext = { service: 'shop', serviceDir, log: () => {} };
  const routerDir = join(serviceDir, 'router');
  let source = join(routerDir, 'proxy.json');
  if (scenario.kind === 'value' || scenario.kind === 'empty') {
    const port = await freePort();
    const router = builtinRouter.create(
      builtinRouter.config.parse({ driver: 'builtin', listen: `127.0.0.1:${port}` }),
      ctx,
    );
    t.after(() => router.shutdown());
    let n = 0;
    const failEvery = scenario.kind === 'value' && scenario.value > 0 ? Math.round(1 / scenario.value) : 0;
    const canary = await startUpstream(t, 'canary', (req, res) => {
      n++;
      req.resume();
      res.writeHead(failEvery > 0 && n % failEvery === 0 ? 500 : 200).end('canary');
    });
    await router.apply({ backends: [{ key: '2', version: 'v2', weight: 100, endpoints: [canary.url] }] });
    if (scenario.kind === 'value') {
      for (let i = 0; i < REQUESTS; i++) await (await fetch(`http://127.0.0.1:${port}/`)).text();
    }
  } else if (scenario.kind !== 'down') {
    // An admin API that misbehaves, where proxy.json says the proxy is.
    const adminUrl = await httpSource(
      t,
      scenario,
      (_req, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not the proxy</html>'),
    );
    await mkdir(routerDir, { recursive: true });
    await ensureAdminSecret(routerDir);
    await writeFile(join(routerDir, 'proxy.json'), JSON.stringify({ pid: process.pid, adminUrl }));
    source = adminUrl;
  }
  const provider = builtinMetrics.create({ provider: 'builtin' }, ctx);
  t.after(() => provider.close());
  return {
    read: async () => errorRate((await provider.collect(['2'], 60_000))['2']),
    source,
    timeoutMs: TIMEOUT_MS,
  };
}

metricsConformance('builtin', makeBuiltin);
