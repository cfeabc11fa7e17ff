/**
 * The router benchmark (`npm run -s bench:routers [-- --quick]`): for the built-in proxy (one
 * process, and `builtin@2`: two workers), HAProxy and NGINX, (1) throughput, p99 and CPU per request through the router against a direct
 * connection, (2) weight-change propagation: from the decision (apply called) to the data plane
 * serving the new weights, measured by traffic, (3) failed requests during 100 consecutive weight
 * changes under load. Prints one JSON object; progress on stderr. Defined in bench/README.md.
 */
import { parseArgs } from 'node:util';
import type { RouteTable } from '../src/drivers/routers/types.ts';
import { runClosedLoop, type ClosedLoopResult } from './closed-loop.ts';
import { describeMachine } from './machine.ts';
import { closeAll, cpuSeconds, type RouterRig, startLoad, startRouter, startUpstream } from './router-setup.ts';
import { spread } from './summary.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    routers: { type: 'string', default: 'builtin,builtin@2,haproxy,nginx' },
  },
});
const ROUTERS = args.routers.split(',');
const PLAN = args.quick
  ? { rounds: 1, concurrency: 32, warmupMs: 500, durationMs: 2000, flips: 6, changes: 100, loadConcurrency: 16 }
  : { rounds: 3, concurrency: 32, warmupMs: 1000, durationMs: 5000, flips: 10, changes: 100, loadConcurrency: 16 };

const log = (m: string) => process.stderr.write(`[bench:routers] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r2 = (x: number) => Math.round(x * 100) / 100;
const median = (xs: number[]) => spread(xs).median;

let stable = '';
let canary = '';
const table = (canaryWeight: number): RouteTable => ({
  backends: [
    { key: '2', version: '2.0.0', weight: canaryWeight, endpoints: [canary] },
    { key: '1', version: '1.0.0', weight: 100 - canaryWeight, endpoints: [stable] },
  ],
});

interface Throughput {
  rps: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  failed: number;
  /** Data-plane CPU (user + system) per request answered, µs. */
  cpuUsPerRequest: number | null;
  /** 1e6 / cpuUsPerRequest: the data plane's capacity per CPU core, whatever the client could send. */
  requestsPerCpuSecond: number | null;
}

async function throughput(rig: RouterRig | null): Promise<Throughput> {
  const runs: ClosedLoopResult[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < PLAN.rounds; i++) {
    const urls = rig === null ? [stable, canary] : [rig.url];
    const pids = rig === null ? [] : await rig.pids();
    const before = await cpuSeconds(pids);
    const run = await runClosedLoop({
      urls,
      concurrency: PLAN.concurrency,
      warmupMs: PLAN.warmupMs,
      durationMs: PLAN.durationMs,
    });
    // CPU over warm-up + measured stretch, divided by the requests of both (rps × whole time).
    const cpuUsed = (await cpuSeconds(pids)) - before;
    runs.push(run);
    if (rig !== null) cpu.push((cpuUsed * 1e6) / (run.rps * ((PLAN.warmupMs + PLAN.durationMs) / 1000)));
  }
  return {
    rps: median(runs.map((r) => r.rps)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    failed: runs.reduce((n, r) => n + r.failed, 0),
    cpuUsPerRequest: rig === null ? null : Math.round(median(cpu) ?? 0),
    requestsPerCpuSecond: rig === null || !median(cpu) ? null : Math.round(1e6 / median(cpu)!),
  };
}

/**
 * Flips all traffic between v1 and v2 and, for each flip, finds in the load's trace the start of
 * the last request still answered by the old version: the new weights serve every request started
 * after it. Propagation = that moment − the decision (0 when none started after the decision).
 */
async function propagation(rig: RouterRig) {
  const load = await startLoad(rig.url, 8);
  await sleep(300);
  const flips: { decidedAt: number; appliedMs: number; to: string; from: string }[] = [];
  for (let i = 0; i < PLAN.flips; i++) {
    const toCanary = i % 2 === 0;
    const decidedAt = performance.timeOrigin + performance.now();
    await rig.router.apply(table(toCanary ? 100 : 0));
    flips.push({
      decidedAt,
      appliedMs: performance.timeOrigin + performance.now() - decidedAt,
      to: toCanary ? '2.0.0' : '1.0.0',
      from: toCanary ? '1.0.0' : '2.0.0',
    });
    await sleep(400);
  }
  const trace = await load.stop();
  const servedMs = flips.map((f, k) => {
    const until = flips[k + 1]?.decidedAt ?? Infinity;
    let lastOld = f.decidedAt;
    for (let i = 0; i < trace.starts.length; i++) {
      const s = trace.starts[i]!;
      if (s >= f.decidedAt && s < until && trace.versions[i] === f.from) lastOld = Math.max(lastOld, s);
    }
    return lastOld - f.decidedAt;
  });
  return {
    servedMs: { ...spread(servedMs.map(r2)), all: servedMs.map(r2) },
    applyResolvedMs: spread(flips.map((f) => r2(f.appliedMs))),
    requests: trace.starts.length,
    failed: trace.failed,
    resetsRetried: trace.resets,
  };
}

/** 100 consecutive weight changes (1 → 10 → 25 → 50 → 75 → 100 → 50 → 10 → 0 → 5 …) under closed-loop load. */
async function churn(rig: RouterRig) {
  await rig.router.apply(table(0));
  const load = await startLoad(rig.url, PLAN.loadConcurrency);
  await sleep(200);
  const steps = [1, 10, 25, 50, 75, 100, 50, 10, 0, 5];
  const applyMs: number[] = [];
  const started = performance.now();
  for (let i = 0; i < PLAN.changes; i++) {
    const t = performance.now();
    await rig.router.apply(table(steps[i % steps.length]!));
    applyMs.push(performance.now() - t);
  }
  const seconds = (performance.now() - started) / 1000;
  await sleep(200);
  const trace = await load.stop();
  const byVersion: Record<string, number> = {};
  for (let i = 0; i < trace.versions.length; i++) {
    const k = trace.statuses[i] === 200 ? trace.versions[i]! : `status:${trace.statuses[i]}`;
    byVersion[k] = (byVersion[k] ?? 0) + 1;
  }
  return {
    changes: PLAN.changes,
    seconds: r2(seconds),
    applyMs: spread(applyMs.map(r2)),
    requests: trace.starts.length,
    byVersion,
    /** After one retry of a GET reset on a reused keep-alive connection. */
    failed: trace.failed,
    /** First tries reset on a reused keep-alive connection (failures for a client that does not retry). */
    resetsRetried: trace.resets,
  };
}

async function main(): Promise<void> {
  const machine = describeMachine();
  log(`plan ${JSON.stringify(PLAN)}; load average ${machine.loadAverage1m}`);
  [stable, canary] = await Promise.all([startUpstream('1.0.0'), startUpstream('2.0.0')]);
  log('direct connection');
  const direct = await throughput(null);
  const out: Record<string, unknown> = {};
  const rps: Record<string, number | null> = {};
  const perCpu: Record<string, number | null> = {};
  for (const name of ROUTERS) {
    log(`${name}: throughput`);
    const rig = await startRouter(name, table(50));
    const through = await throughput(rig);
    rps[name] = through.rps;
    perCpu[name] = through.requestsPerCpuSecond;
    log(`${name}: propagation`);
    const prop = await propagation(rig);
    log(`${name}: 100 weight changes under load`);
    const changes = await churn(rig);
    await rig.close();
    out[name] = {
      throughput: {
        ...through,
        vsDirect: through.rps && direct.rps ? r2(through.rps / direct.rps) : null,
        addedP99Ms: through.p99Ms !== null && direct.p99Ms !== null ? r2(through.p99Ms - direct.p99Ms) : null,
      },
      propagation: prop,
      weightChanges: changes,
    };
  }
  const builtinVsHaproxy = rps.builtin && rps.haproxy ? r2(rps.builtin / rps.haproxy) : null;
  const builtinVsHaproxyPerCpu = perCpu.builtin && perCpu.haproxy ? r2(perCpu.builtin / perCpu.haproxy) : null;
  const builtinWorkers = rps['builtin@2'] && rps.builtin ? r2(rps['builtin@2'] / rps.builtin) : null;
  const get = (n: string) =>
    (out[n] ?? {
      propagation: { servedMs: { median: null, max: null } },
      weightChanges: { failed: NaN, resetsRetried: NaN },
    }) as {
      propagation: { servedMs: { median: number | null; max: number | null } };
      weightChanges: { failed: number; resetsRetried: number };
    };
  const targets = {
    builtinVsHaproxyThroughput: {
      value: builtinVsHaproxy,
      target: '>= 0.5',
      met: builtinVsHaproxy !== null && builtinVsHaproxy >= 0.5,
    },
    builtinVsHaproxyPerCpu: {
      value: builtinVsHaproxyPerCpu,
      target: '>= 0.6 (issue 13)',
      met: builtinVsHaproxyPerCpu !== null && builtinVsHaproxyPerCpu >= 0.6,
    },
    builtinTwoWorkersVsOne: {
      value: builtinWorkers,
      target: '> 1 (throughput grows with the cores given to it)',
      met: builtinWorkers !== null && builtinWorkers > 1,
    },
    builtinChangeMs: {
      value: get('builtin').propagation.servedMs.max,
      target: '< 50 (max over flips)',
      met: (get('builtin').propagation.servedMs.max ?? Infinity) < 50,
    },
    builtinTwoWorkersChangeMs: {
      value: get('builtin@2').propagation.servedMs.max,
      target: '< 50 (max over flips: every worker serves the change)',
      met: (get('builtin@2').propagation.servedMs.max ?? Infinity) < 50,
    },
    haproxyChangeMs: {
      value: get('haproxy').propagation.servedMs.max,
      target: '< 50 (max over flips)',
      met: (get('haproxy').propagation.servedMs.max ?? Infinity) < 50,
    },
    nginxChangeMs: {
      value: get('nginx').propagation.servedMs.max,
      target: '< 1000 (max over flips)',
      met: (get('nginx').propagation.servedMs.max ?? Infinity) < 1000,
    },
    failedDuringChanges: Object.fromEntries(
      ROUTERS.map((n) => [
        n,
        { failed: get(n).weightChanges.failed, resetsRetried: get(n).weightChanges.resetsRetried },
      ]),
    ),
  };
  process.stdout.write(`${JSON.stringify({ machine, plan: PLAN, direct, routers: out, targets }, null, 2)}\n`);
}

const bound = setTimeout(() => {
  log('run-time bound (10 min) reached');
  void closeAll().then(() => process.exit(1));
}, 10 * 60_000);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void closeAll().then(() => process.exit(130)));
main()
  .catch((err: Error) => {
    process.stdout.write(`${JSON.stringify({ error: err.message })}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    clearTimeout(bound);
    await closeAll();
  });
