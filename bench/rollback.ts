/**
 * The rollback benchmark (`npm run bench:rollback [-- --runs N] [-- --quick] [-- --cases …]`): how fast Sluice
 * takes traffic off a bad canary under steady load, whether a healthy release goes through
 * cleanly, and what the built-in proxy costs. Prints one JSON object on stdout; progress goes to
 * stderr. Every figure is defined in bench/README.md.
 */
import { parseArgs } from 'node:util';
import { closeAll } from './deployment.ts';
import { runHealthyRelease, type HealthyRun } from './healthy-release.ts';
import { describeMachine } from './machine.ts';
import { measureProxyOverhead, type OverheadPlan, type ProxyOverhead } from './proxy-overhead.ts';
import { healthyReport, rollbackCaseReport } from './report.ts';
import { BAD_CANARIES, runRollbackCase, SLOW_MS, type LoadPlan, type RollbackRun } from './rollback-case.ts';
import { CONTRACT, healthySteps, ROUTERS, type RouterName } from './service-spec.ts';

/** What `--cases` can pick: the bad canaries, the healthy release and the proxy overhead. */
const PARTS = [...BAD_CANARIES.map((b) => b.name), 'healthy', 'overhead'] as const;
type Part = (typeof PARTS)[number];

const USAGE = `usage: node bench/rollback.ts [--runs N] [--rps R] [--quick] [--cases ${PARTS.join(',')}] [--routers ${ROUTERS.join(',')}]`;
/** Behind HAProxy and NGINX (request figures from their access log): median first failing request → reverted ≤ 1 s. */
const FLEET_TARGET_MS = 1000;

interface Plan {
  quick: boolean;
  runs: number;
  /** The parts to run (default: all). */
  cases: Set<Part>;
  /** The routers the bad canaries run behind (default: builtin); the healthy release and overhead stay on builtin. */
  routers: RouterName[];
  load: LoadPlan;
  healthyPause: string;
  healthyTimeoutMs: number;
  overhead: OverheadPlan;
}

function planFrom(argv: string[]): Plan {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        runs: { type: 'string' },
        rps: { type: 'string' },
        quick: { type: 'boolean', default: false },
        cases: { type: 'string' },
        routers: { type: 'string' },
      },
    }));
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${USAGE}`);
  }
  const whole = (name: string, text: string | undefined, fallback: number, max: number) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new Error(`--${name} "${text}" is not valid; write a whole number from 1 to ${max}\n${USAGE}`);
    return n;
  };
  const quick = values.quick === true;
  const cases = new Set<Part>(PARTS);
  if (values.cases !== undefined) {
    cases.clear();
    for (const name of values.cases.split(',')) {
      const part = PARTS.find((p) => p === name.trim());
      if (part === undefined)
        throw new Error(`--cases: "${name}" is not a case; write some of ${PARTS.join(',')}\n${USAGE}`);
      cases.add(part);
    }
  }
  const routers: RouterName[] = [];
  for (const name of (values.routers ?? 'builtin').split(',')) {
    const router = ROUTERS.find((r) => r === name.trim());
    if (router === undefined)
      throw new Error(`--routers: "${name}" is not a router; write some of ${ROUTERS.join(',')}\n${USAGE}`);
    routers.push(router);
  }
  return {
    quick,
    cases,
    routers,
    runs: whole('runs', values.runs, quick ? 1 : 5, 50),
    load: {
      rps: whole('rps', values.rps, 400, 2000),
      warmupMs: quick ? 1500 : 2000,
      settleMs: 1500,
      rollbackTimeoutMs: 30_000,
    },
    healthyPause: quick ? '2s' : '5s',
    healthyTimeoutMs: 60_000,
    overhead: { rounds: quick ? 1 : 3, concurrency: 32, warmupMs: quick ? 500 : 1000, durationMs: quick ? 2000 : 5000 },
  };
}

const progress = (message: string) => process.stderr.write(`[bench:rollback] ${message}\n`);

async function attempt<T>(what: string, run: () => Promise<T>, failed: (message: string) => T): Promise<T> {
  try {
    return await run();
  } catch (err) {
    progress(`${what} failed: ${(err as Error).message}`);
    return failed((err as Error).message);
  }
}

const noRollback = (error: string): RollbackRun => ({
  rolledBack: false,
  error,
  trigger: null,
  revertMs: null,
  clientRevertMs: null,
  detectMs: null,
  controllerRevertMs: null,
  failedRequests: null,
  failedOnCanary: null,
  failedAfterRevert: null,
  failedTotal: 0,
  requests: 0,
  canaryRequests: 0,
  canaryBeforeRevert: null,
  skipped: 0,
});

const noRelease = (error: string): HealthyRun => ({
  promoted: false,
  error,
  rollbacks: 0,
  rollbackReasons: [],
  failedRequests: 0,
  slowRequests: 0,
  requests: 0,
  byVersion: {},
  releaseMs: null,
});

async function main(plan: Plan): Promise<Record<string, unknown>> {
  const started = Date.now();
  const machine = describeMachine();
  // A case behind HAProxy or NGINX is named `<case>@<router>`.
  const badCanaries = BAD_CANARIES.filter((b) => plan.cases.has(b.name)).flatMap((b) =>
    plan.routers.map((router) => ({ bad: b, router, name: router === 'builtin' ? b.name : `${b.name}@${router}` })),
  );
  const rollbackRuns = new Map<string, RollbackRun[]>(badCanaries.map((b) => [b.name, []]));
  // Cases take turns within each round, so a noisy minute on the shared machine hits all of them alike.
  for (let round = 1; round <= plan.runs; round++) {
    for (const { bad, router, name } of badCanaries) {
      progress(`rollback ${name}: run ${round}/${plan.runs}`);
      // The low-traffic case fails 10 s into its step and needs tens of seconds of evidence.
      const load = bad.rps === undefined ? plan.load : { ...plan.load, rollbackTimeoutMs: 180_000 };
      const run = await attempt(`rollback ${name}`, () => runRollbackCase(bad, load, router), noRollback);
      progress(`  revertMs ${run.revertMs}, failed ${run.failedRequests}${run.error ? `, error: ${run.error}` : ''}`);
      rollbackRuns.get(name)!.push(run);
    }
  }
  const healthyRuns: HealthyRun[] = [];
  for (let round = 1; plan.cases.has('healthy') && round <= plan.runs; round++) {
    progress(`healthy release: run ${round}/${plan.runs}`);
    const load = { ...plan.load, rollbackTimeoutMs: plan.healthyTimeoutMs };
    const run = await attempt('healthy release', () => runHealthyRelease(load, plan.healthyPause), noRelease);
    progress(`  promoted ${run.promoted}, failed ${run.failedRequests}, rollbacks ${run.rollbacks}`);
    healthyRuns.push(run);
  }
  let proxyOverhead: ProxyOverhead | { error: string } | null = null;
  if (plan.cases.has('overhead')) {
    progress('proxy overhead');
    proxyOverhead = await attempt<ProxyOverhead | { error: string }>(
      'proxy overhead',
      () => measureProxyOverhead(plan.overhead),
      (error) => ({ error }),
    );
  }

  const rollback = Object.fromEntries(
    badCanaries.map((b) => [
      b.name,
      rollbackCaseReport(b.bad, rollbackRuns.get(b.name)!, b.router === 'builtin' ? undefined : FLEET_TARGET_MS),
    ]),
  );
  // Parts left out by --cases are null.
  const healthyRelease = plan.cases.has('healthy') ? healthyReport(healthyRuns) : null;
  return {
    benchmark: 'rollback',
    date: new Date(started).toISOString(),
    quick: plan.quick,
    machine,
    config: {
      runs: plan.runs,
      cases: [...plan.cases],
      routers: plan.routers,
      serverPerRun: true,
      load: {
        ...plan.load,
        kind: 'open-loop, keep-alive, through the built-in proxy',
        prewarm: 'closed loop, 4 workers, 1 s',
      },
      canarySteps: [{ setWeight: 10 }, { pause: {} }],
      healthySteps: healthySteps(plan.healthyPause),
      contract: CONTRACT,
      slowMs: SLOW_MS,
      overhead: plan.overhead,
    },
    targets: {
      ...Object.fromEntries(
        Object.entries(rollback).map(([name, r]) => [
          name,
          { target: r.target, medianRevertMs: r.revertMs.median, met: r.met },
        ]),
      ),
      ...(healthyRelease && {
        healthyRelease: {
          target: healthyRelease.target,
          failedRequests: healthyRelease.failedRequests,
          rollbacks: healthyRelease.rollbacks,
          met: healthyRelease.met,
        },
      }),
    },
    rollback,
    healthyRelease,
    proxyOverhead,
    durationMs: Date.now() - started,
  };
}

function bail(code: number, result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exitCode = code;
}

let plan: Plan;
try {
  plan = planFrom(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
// A bound on the whole run, whatever hangs: generous per run, then everything is torn down.
const boundMs = plan.runs * 4 * 60_000 + 3 * 60_000;
const bound = setTimeout(() => {
  progress(`run-time bound of ${boundMs / 1000} s reached; tearing down`);
  void closeAll().finally(() => {
    bail(1, { benchmark: 'rollback', error: `did not finish within ${boundMs} ms` });
    process.exit(1);
  });
}, boundMs);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: tearing down`);
    void closeAll().finally(() => process.exit(130));
  });
}
try {
  bail(0, await main(plan));
} catch (err) {
  await closeAll();
  bail(1, { benchmark: 'rollback', error: (err as Error).message });
} finally {
  clearTimeout(bound);
}
