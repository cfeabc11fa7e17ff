/**
 * What the haproxy fault tests share (faults.test.ts, fault-kinds.test.ts): a managed haproxy at
 * 50/50 between a canary (key 2) and a stable (key 1) upstream, a fault rule, and a load that
 * times every answer.
 */
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { FaultRule } from '../../../core/drills/fault.ts';
import { accessLogMetrics } from '../../metrics/access-log/index.ts';
import type { DriverContext } from '../../types.ts';
import { isAlive, readPid } from '../managed-process.ts';
import type { RouteTable } from '../types.ts';
import { freePort, startUpstream } from '../upstreams.ts';
import { haproxyRouter } from './index.ts';
import { runtimeCommand } from './runtime-api.ts';

export async function setupFaults(t: TestContext, accessLog = false) {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-haproxy-faults-'));
  t.after(async () => {
    const pid = await readPid(join(dir, 'router', 'haproxy', 'haproxy.pid'));
    if (pid !== null && isAlive(pid)) process.kill(-pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  const [port, logPort] = [await freePort(), await freePort()];
  const ctx: DriverContext = { service: 'shop', serviceDir: dir, log: () => {} };
  const config = {
    driver: 'haproxy',
    listen: `127.0.0.1:${port}`,
    ...(accessLog && { accessLog: `127.0.0.1:${logPort}` }),
  };
  const metrics = accessLog
    ? accessLogMetrics.create(
        accessLogMetrics.config.parse({ provider: 'access-log', listen: `127.0.0.1:${logPort}`, heartbeat: '200ms' }),
        ctx,
      )
    : null;
  if (metrics !== null) t.after(() => metrics.close());
  const router = haproxyRouter.create(haproxyRouter.config.parse(config), ctx);
  t.after(() => router.shutdown());
  const [canary, stable] = await Promise.all([startUpstream(t, 'canary'), startUpstream(t, 'stable')]);
  const socket = join(dir, 'router', 'haproxy', 'admin.sock');
  const table = (w: number): RouteTable => ({
    backends: [
      { key: '2', version: 'v2', weight: w, endpoints: [canary.url] },
      { key: '1', version: 'v1', weight: 100 - w, endpoints: [stable.url] },
    ],
  });
  await router.apply(table(50));
  const worker = async () => /^Pid: (\d+)$/m.exec(await runtimeCommand(socket, 'show info'))?.[1];
  return {
    dir,
    router,
    faults: router.faults!,
    metrics,
    config,
    socket,
    listenUrl: `http://127.0.0.1:${port}/`,
    table,
    worker,
    canary,
  };
}

export const faultRule = (over: Partial<FaultRule> = {}): FaultRule => ({
  id: 'drill/1/0.0',
  key: '2',
  effect: { kind: 'error', status: 503 },
  percent: 100,
  ttlMs: 60_000,
  ...over,
});

/** One answer as a client saw it: when it came, how long it took, its `x-sluice-fault` header. */
export interface TimedAnswer {
  at: number;
  ms: number;
  status: number;
  body: string;
  fault: string | undefined;
}

/** One request; a connection error is status 0 with its code and message as the body. */
export function timedRequest(
  url: string,
  agent: http.Agent,
  headers: Record<string, string> = {},
): Promise<TimedAnswer> {
  const start = performance.now();
  return new Promise((resolve) => {
    const done = (status: number, body: string, fault: string | undefined) =>
      resolve({ at: Date.now(), ms: performance.now() - start, status, body, fault });
    http
      .get(url, { agent, headers, timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => done(res.statusCode ?? 0, body, res.headers['x-sluice-fault'] as string | undefined));
        res.on('error', (e: NodeJS.ErrnoException) => done(0, `${e.code ?? ''} ${e.message}`, undefined));
      })
      .on('error', (e: NodeJS.ErrnoException) => done(0, `${e.code ?? ''} ${e.message}`, undefined));
  });
}

/** Requests one after another (keep-alive) until `until()`; each answer with the time it came. */
export async function timedLoad(url: string, agent: http.Agent, until: () => boolean): Promise<TimedAnswer[]> {
  const out: TimedAnswer[] = [];
  while (!until()) out.push(await timedRequest(url, agent));
  return out;
}
