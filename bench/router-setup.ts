/**
 * The world of bench/routers.ts: two example-service upstreams (v1, v2) as their own processes,
 * one router at a time on a temp service dir, the data plane's pids (for CPU per request) and a
 * forked load process. Everything is torn down by `closeAll`, on errors and signals too.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { routers } from '../src/drivers/registry.ts';
import { childrenOf, readPid } from '../src/drivers/routers/managed-process.ts';
import { freePort } from '../src/drivers/routers/upstreams.ts';
import type { RouteTable, Router } from '../src/drivers/routers/types.ts';
import type { LoadTrace } from './router-load.ts';

const SERVICE = fileURLToPath(new URL('../examples/service/server.ts', import.meta.url));
const LOAD = fileURLToPath(new URL('./router-load.ts', import.meta.url));
const cleanups: Array<() => Promise<void>> = [];

export async function closeAll(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
}

/** One instance of the example service answering with x-version, no added latency. */
export async function startUpstream(version: string): Promise<string> {
  const child = spawn(process.execPath, [SERVICE], {
    env: { ...process.env, PORT: '0', SLUICE_VERSION: version, BASE_LATENCY_MS: '0', FAIL_RATE: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(async () => void child.kill('SIGKILL'));
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const m = /(http:\/\/[0-9.]+:\d+)/.exec(line);
    if (m) return m[1]!;
  }
  throw new Error(`examples/service/server.ts (${version}) exited before printing its address`);
}

export interface RouterRig {
  name: string;
  router: Router;
  url: string;
  /** Pids of the data plane's processes (proxy, or master and workers). */
  pids(): Promise<number[]>;
  close(): Promise<void>;
}

/**
 * `name` is a router driver, or `builtin@N`: the built-in proxy with N worker processes
 * (`workers: N`).
 */
export async function startRouter(name: string, table: RouteTable): Promise<RouterRig> {
  const [driver, workers] = name.split('@') as [string, string | undefined];
  const serviceDir = await mkdtemp(join(tmpdir(), `sluice-bench-${driver}-`));
  const listen = `127.0.0.1:${await freePort()}`;
  const factory = routers[driver];
  if (factory === undefined) throw new Error(`no router driver "${driver}" (from --routers ${name})`);
  const config = { driver, listen, ...(workers !== undefined && { workers: Number(workers) }) };
  const router = factory.create(factory.config.parse(config), {
    service: 'bench',
    serviceDir,
    log: () => {},
  });
  const close = async () => {
    await router.shutdown().catch(() => undefined);
    await rm(serviceDir, { recursive: true, force: true });
  };
  cleanups.push(close);
  await router.apply(table);
  const dir = join(serviceDir, 'router');
  const pids = async (): Promise<number[]> => {
    if (driver === 'builtin') {
      const info = JSON.parse(await readFile(join(dir, 'proxy.json'), 'utf8')) as { pid: number };
      return [info.pid, ...childrenOf(info.pid)];
    }
    const master = await readPid(join(dir, driver, `${driver}.pid`));
    return master === null ? [] : [master, ...childrenOf(master)];
  };
  return { name, router, url: `http://${listen}/`, pids, close };
}

/** CPU seconds (user + system) used so far by these processes, from /proc (100 ticks per second). */
export async function cpuSeconds(pids: number[]): Promise<number> {
  let ticks = 0;
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(f[11] ?? 0) + Number(f[12] ?? 0);
  }
  return ticks / 100;
}

export interface RunningLoad {
  stop(): Promise<LoadTrace>;
}

/** A forked closed-loop load on `url`; resolves once it is sending. */
export async function startLoad(url: string, concurrency: number): Promise<RunningLoad> {
  const child: ChildProcess = fork(LOAD, [url, String(concurrency)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  cleanups.push(async () => void child.kill('SIGKILL'));
  const [first] = (await once(child, 'message')) as [unknown];
  if (first !== 'ready') throw new Error(`bench/router-load.ts said ${JSON.stringify(first)} instead of ready`);
  return {
    async stop() {
      const result = once(child, 'message') as Promise<[LoadTrace]>;
      child.send('stop');
      return (await result)[0];
    },
  };
}
