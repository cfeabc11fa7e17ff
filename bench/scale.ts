/**
 * Many releases at once on one machine: N services, each with a release in progress evaluated
 * every 1 s (and ticked every 100 ms, as the controller does), through the real core and a real
 * store (SQLite, then PostgreSQL with each commit fenced by its lease), with synthetic traffic and
 * drivers that answer at once (bench/scale-service.ts). Then failover: replicas holding the
 * services' leases are SIGKILLed one after another; the time until the next one holds them all.
 * Prints one JSON object.
 *
 *   node bench/scale.ts [--services 1000] [--seconds 60] [--stores sqlite,postgres] [--kills 20] [--failover-services 100]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { PostgresStore } from '../src/store/postgres/store-admin.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/types.ts';
import { TestPostgres } from '../test/support/postgres.ts';
import { BenchService } from './scale-service.ts';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '60' },
    stores: { type: 'string', default: 'sqlite,postgres' },
    kills: { type: 'string', default: '20' },
    'failover-services': { type: 'string', default: '100' },
    rps: { type: 'string', default: '20' },
  },
});
const N = Number(values.services);
const SECONDS = Number(values.seconds);
const KILLS = Number(values.kills);
const FAILOVER_SERVICES = Number(values['failover-services']);
const RPS = Number(values.rps);
const log = (s: string) => process.stderr.write(`${s}\n`);

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/** CPU seconds of a process and its children (PostgreSQL's backends), from /proc. */
function treeCpuSeconds(root: number): number {
  const tick = 100;
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pid) === root || Number(f[1]) === root) total += (Number(f[11]) + Number(f[12])) / tick;
    } catch {
      // gone
    }
  }
  return total;
}

async function loop(kind: 'sqlite' | 'postgres', pg: TestPostgres | null) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-scale-'));
  let store: Store;
  let size: () => Promise<number>;
  if (kind === 'sqlite') {
    const path = join(dir, 'sluice.db');
    store = new SqliteStore(path);
    size = async () =>
      ['', '-wal'].reduce((n, s) => {
        try {
          return n + statSync(path + s).size;
        } catch {
          return n;
        }
      }, 0);
  } else {
    const pgStore = await PostgresStore.open(await pg!.createDatabase('scale'), { poolSize: 10 });
    store = pgStore;
    size = async () => Number((await pgStore.pool.query('SELECT pg_database_size(current_database()) AS n')).rows[0].n);
  }
  const services: BenchService[] = [];
  for (let i = 0; i < N; i++) {
    const name = `svc-${i}`;
    let fence;
    if (store instanceof PostgresStore) {
      const lease = await store.leases.claim(name, 'bench', 60_000, null);
      fence = { holder: 'bench', epoch: lease!.epoch };
    }
    const s = new BenchService(name, store, { seed: i + 1, rps: RPS, ...(fence && { fence }) });
    await s.start(Date.now());
    services.push(s);
  }
  log(`${kind}: ${N} releases in progress; running ${SECONDS} s`);
  const size0 = await size();
  const cpu0 = process.cpuUsage();
  const pgCpu0 = kind === 'postgres' && pg?.pid ? treeCpuSeconds(pg.pid) : 0;
  const t0 = Date.now();
  const end = t0 + SECONDS * 1000;
  const lags: number[] = [];
  let peakRss = 0;
  let errors = 0;
  let firstError: string | null = null;
  const failed = (err: unknown) => {
    errors++;
    firstError ??= (err as Error).message;
  };
  const rssTimer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 500);
  const tickTimers = services.map((s) =>
    setInterval(() => void s.exclusive(() => s.feed({ type: 'tick' }, Date.now())).catch(failed), 100),
  );
  await Promise.all(
    services.map(async (s, i) => {
      let due = t0 + (i * 1000) / N;
      while (due < end) {
        await sleep(Math.max(0, due - Date.now()));
        await s.exclusive(() => s.evaluate(Date.now())).catch(failed);
        lags.push(Date.now() - due);
        due += 1000;
      }
    }),
  );
  const wall = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const pgCpu = kind === 'postgres' && pg?.pid ? treeCpuSeconds(pg.pid) - pgCpu0 : null;
  tickTimers.forEach(clearInterval);
  clearInterval(rssTimer);
  await sleep(200);
  const grown = (await size()) - size0;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    store: kind,
    services: N,
    seconds: Math.round(wall),
    evaluations: lags.length,
    errors,
    firstError,
    decisionLagMs: { p50: quantile(lags, 0.5), p99: quantile(lags, 0.99), max: quantile(lags, 1) },
    controlPlaneCpuCores: Math.round(((cpu.user + cpu.system) / 1e6 / wall) * 100) / 100,
    ...(pgCpu !== null && { postgresCpuCores: Math.round((pgCpu / wall) * 100) / 100 }),
    peakRssMb: Math.round(peakRss / 1e6),
    storeGrowthMbPerHour: Math.round((((grown / wall) * 3600) / 1e6) * 10) / 10,
    commits: services.reduce((n, s) => n + s.commits, 0),
  };
}

/** Replicas (lease keepers only) SIGKILLed one after another; each time, how long until the next holds every lease. */
async function failover(pg: TestPostgres) {
  const url = await pg.createDatabase('failover');
  const store = await PostgresStore.open(url);
  for (let i = 0; i < FAILOVER_SERVICES; i++)
    await store.putService({ name: `svc-${i}`, spec: {}, baseDir: '/', file: null, revisionKey: '1', updatedAt: 0 });
  await store.close();
  const held = new Map<string, Set<string>>();
  const gainedAt = new Map<string, number[]>();
  const children: ChildProcess[] = [];
  const startReplica = async (id: string): Promise<ChildProcess> => {
    const child = spawn(process.execPath, [join(import.meta.dirname, 'scale-replica.ts'), url, id], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    held.set(id, new Set());
    gainedAt.set(id, []);
    let ready: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const e = JSON.parse(line) as { gained?: string; lost?: string; ready?: string; at: number };
      if (e.gained) {
        held.get(id)!.add(e.gained);
        gainedAt.get(id)!.push(e.at);
      }
      if (e.lost) held.get(id)!.delete(e.lost);
      if (e.ready) ready();
    });
    await isReady;
    return child;
  };
  const waitAll = async (id: string, timeoutMs: number) => {
    const until = Date.now() + timeoutMs;
    while (held.get(id)!.size < FAILOVER_SERVICES && Date.now() < until) await sleep(10);
    return held.get(id)!.size === FAILOVER_SERVICES;
  };
  const times: number[] = [];
  try {
    let owner = await startReplica('r0');
    if (!(await waitAll('r0', 20_000))) throw new Error('r0 never held every lease');
    for (let k = 1; k <= KILLS; k++) {
      const next = await startReplica(`r${k}`);
      owner.kill('SIGKILL');
      const killedAt = Date.now();
      if (!(await waitAll(`r${k}`, 20_000))) throw new Error(`r${k} did not take every lease within 20 s of the kill`);
      times.push(Math.max(...gainedAt.get(`r${k}`)!) - killedAt);
      log(`kill ${k}: all ${FAILOVER_SERVICES} leases taken over in ${times.at(-1)} ms`);
      owner = next;
    }
  } finally {
    for (const c of children) c.kill('SIGKILL');
  }
  return {
    replicasKilled: times.length,
    servicesPerReplica: FAILOVER_SERVICES,
    failoverMs: { p50: quantile(times, 0.5), p99: quantile(times, 0.99), max: quantile(times, 1), all: times },
  };
}

const started = Date.now();
const stores = String(values.stores).split(',');
const pg = stores.includes('postgres') || KILLS > 0 ? await TestPostgres.start() : null;
try {
  const runs = [];
  for (const kind of stores) runs.push(await loop(kind as 'sqlite' | 'postgres', pg));
  const fail = KILLS > 0 && pg !== null ? await failover(pg) : null;
  console.log(
    JSON.stringify(
      {
        bench: 'scale',
        machine: `${(await import('node:os')).cpus().length} cores, load average ${(await import('node:os'))
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
        intervalMs: 1000,
        tickMs: 100,
        rpsPerService: RPS,
        runs,
        failover: fail,
        targets: { decisionLagP99Ms: 1000, controlPlaneCpuCores: 1 },
        seconds: Math.round((Date.now() - started) / 1000),
      },
      null,
      2,
    ),
  );
} finally {
  await pg?.stop();
}
