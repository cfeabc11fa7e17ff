/**
 * Does the built-in proxy's throughput grow with the cores given to it? (`npm run -s
 * bench:proxy-cores`.) On a 2-core machine the load generator and the upstreams need CPU too, so
 * "one worker vs two" with nothing limited measures the machine, not the proxy. Here each
 * configuration — the proxy with N worker processes (`workers: N`) — runs in a CPU cgroup limited
 * to N × `--share` of a core (cgroup v1 `cpu.cfs_quota_us`, or v2 `cpu.max`), under a closed-loop
 * load that needs less than what is left: throughput then shows what N workers do with N shares.
 * A second row gives one worker the whole budget of the largest N, which says whether the gain
 * comes from the workers or only from the CPU. Needs root (it makes and removes the cgroups).
 * Prints one JSON object; progress on stderr. Defined in bench/README.md.
 */
import { mkdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { RouteTable } from '../src/drivers/routers/types.ts';
import { runClosedLoop } from './closed-loop.ts';
import { describeMachine } from './machine.ts';
import { closeAll, cpuSeconds, startRouter, startUpstream } from './router-setup.ts';
import { spread } from './summary.ts';

const { values: args } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,2,3' },
    share: { type: 'string', default: '0.2' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '4' },
  },
});
const WORKERS = args.workers.split(',').map(Number);
const SHARE = Number(args.share);
const ROUNDS = Number(args.rounds);
const DURATION_MS = Number(args.seconds) * 1000;
if (WORKERS.some((n) => !Number.isInteger(n) || n < 1 || n > 8) || !(SHARE > 0 && SHARE <= 1) || !(ROUNDS >= 1))
  throw new Error(
    `bench/proxy-cores.ts: --workers takes 1..8 (given ${args.workers}), --share 0 < s ≤ 1 (given ${args.share}), --rounds ≥ 1`,
  );

const log = (m: string) => process.stderr.write(`[bench:proxy-cores] ${m}\n`);
const PERIOD_US = 100_000;

/** A CPU cgroup limited to `cores`; `add` moves processes into it. */
async function cpuGroup(name: string, cores: number) {
  const v1 = '/sys/fs/cgroup/cpu';
  const v2 = '/sys/fs/cgroup';
  const quota = Math.round(cores * PERIOD_US);
  for (const [root, limit] of [
    [
      v1,
      async (dir: string) => {
        await writeFile(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
        await writeFile(join(dir, 'cpu.cfs_quota_us'), String(quota));
      },
    ],
    [v2, async (dir: string) => writeFile(join(dir, 'cpu.max'), `${quota} ${PERIOD_US}`)],
  ] as const) {
    const dir = join(root, name);
    try {
      await mkdir(dir);
    } catch {
      continue;
    }
    try {
      await limit(dir);
    } catch (err) {
      await rmdir(dir).catch(() => undefined);
      throw err;
    }
    return {
      add: async (pids: number[]) => {
        for (const pid of pids) await writeFile(join(dir, 'cgroup.procs'), String(pid));
      },
      remove: () => rmdir(dir).catch(() => undefined),
    };
  }
  throw new Error('bench/proxy-cores.ts: cannot make a CPU cgroup (needs root and cgroup v1 cpu or v2 cpu.max)');
}

async function measure(workers: number, cores: number, table: RouteTable) {
  const rig = await startRouter(`builtin@${workers}`, table);
  const group = await cpuGroup(`sluice-bench-${process.pid}-${workers}-${Math.round(cores * 100)}`, cores);
  try {
    const pids = await rig.pids();
    await group.add(pids);
    const rps: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const before = await cpuSeconds(pids);
      const t0 = performance.now();
      const run = await runClosedLoop({ urls: [rig.url], concurrency: 32, warmupMs: 1000, durationMs: DURATION_MS });
      cpu.push(((await cpuSeconds(pids)) - before) / ((performance.now() - t0) / 1000));
      rps.push(run.rps);
      if (run.failed > 0) log(`  ${run.failed} failed requests`);
    }
    const r = { workers, cores, rps: spread(rps), coresUsed: spread(cpu) };
    log(
      `builtin@${workers} on ${cores} cores: ${Math.round(r.rps.median ?? 0)} rps, ${r.coresUsed.median?.toFixed(2)} cores used`,
    );
    return r;
  } finally {
    await rig.close();
    await group.remove();
  }
}

async function main(): Promise<void> {
  const stable = await startUpstream('1.0.0');
  const canary = await startUpstream('2.0.0');
  const table: RouteTable = {
    backends: [
      { key: '2', version: '2.0.0', weight: 50, endpoints: [canary] },
      { key: '1', version: '1.0.0', weight: 50, endpoints: [stable] },
    ],
  };
  const scaled = [];
  for (const n of WORKERS) scaled.push(await measure(n, Math.round(n * SHARE * 100) / 100, table));
  const most = Math.max(...WORKERS);
  const oneWithAll = await measure(1, Math.round(most * SHARE * 100) / 100, table);
  const base = scaled[0]!.rps.median ?? 0;
  const ratio = (x: number | null) => (base > 0 && x !== null ? Math.round((x / base) * 100) / 100 : null);
  const growth = scaled.map((s) => ({ workers: s.workers, cores: s.cores, ratioToOne: ratio(s.rps.median) }));
  const last = growth[growth.length - 1]!;
  process.stdout.write(
    `${JSON.stringify({
      benchmark: 'proxy-cores',
      date: new Date().toISOString(),
      machine: describeMachine(),
      config: { workers: WORKERS, sharePerWorker: SHARE, rounds: ROUNDS, durationMs: DURATION_MS, concurrency: 32 },
      scaled,
      oneWorkerWithTheLargestBudget: oneWithAll,
      growth,
      target: {
        target: 'throughput grows with the cores given: N workers on N shares ≥ 0.8 × N × one worker on one share',
        value: last.ratioToOne,
        met: last.ratioToOne !== null && last.ratioToOne >= 0.8 * last.workers,
      },
    })}\n`,
  );
}

main()
  .catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  })
  .finally(() => closeAll());
