/**
 * `npm run bench:analytics`: import 100,000 deployments with their commits and incidents over two
 * years through the same code as `sluice analytics import`, then time a six-month DORA query (target
 * ≤ 500 ms) and a weekly report (target ≤ 1 s). In-process, on a fresh data dir; prints one JSON object.
 *
 *   node bench/analytics.ts [--deployments 100000] [--services 40] [--runs 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Analytics } from '../src/analytics/analytics.ts';
import { SqliteAnalyticsStore } from '../src/analytics/sqlite/sqlite-analytics-store.ts';
import { weeklyReport } from '../src/analytics/weekly-report.ts';
import { EventBus } from '../src/engine/event-bus.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { describeMachine } from './machine.ts';

const { values } = parseArgs({
  options: {
    deployments: { type: 'string', default: '100000' },
    services: { type: 'string', default: '40' },
    runs: { type: 'string', default: '5' },
  },
});
const N = Number(values.deployments);
const SERVICES = Number(values.services);
const RUNS = Number(values.runs);
const DAY = 86_400_000;
const END = Date.UTC(2026, 11, 1);
const START = END - 730 * DAY;

/** A seeded generator, so every run imports the same history. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function history(): string[] {
  const r = rng(17);
  const lines: string[] = [];
  const iso = (ms: number) => new Date(ms).toISOString();
  let sha = 0;
  for (let i = 0; i < N; i++) {
    const service = `svc-${i % SERVICES}`;
    const finishedAt = START + Math.floor((i / N) * 730 * DAY + r() * 3_600_000);
    const startedAt = finishedAt - 10 * 60_000 - Math.floor(r() * 30 * 60_000);
    const commits: string[] = [];
    for (let c = 0, n = 1 + Math.floor(r() * 3); c < n; c++) {
      const s = (++sha).toString(16).padStart(12, '0');
      commits.push(s);
      lines.push(
        JSON.stringify({ type: 'commit', sha: s, service, committedAt: iso(startedAt - Math.floor(r() * 5 * DAY)) }),
      );
    }
    const rolledBack = r() < 0.08;
    lines.push(
      JSON.stringify({
        type: 'deployment',
        id: `d${i}`,
        service,
        environment: 'production',
        team: `team-${i % 8}`,
        version: `1.${i}.0`,
        startedAt: iso(startedAt),
        finishedAt: iso(finishedAt),
        result: rolledBack ? 'rolledback' : 'success',
        ...(rolledBack && { trafficRevertedAt: iso(finishedAt) }),
        commits,
        progressive: r() < 0.7,
      }),
    );
    if (r() < 0.03) {
      const openedAt = finishedAt + Math.floor(r() * 3_600_000);
      lines.push(
        JSON.stringify({
          type: 'incident',
          id: `i${i}`,
          service,
          openedAt: iso(openedAt),
          resolvedAt: iso(openedAt + Math.floor(r() * 4 * 3_600_000)),
        }),
      );
    }
  }
  return lines;
}

/** Wall time, and this process's CPU time (the machine is shared: CPU time says what the work costs, wall time what a user waits). */
const timed = async <T>(fn: () => Promise<T> | T): Promise<{ ms: number; cpuMs: number; value: T }> => {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return {
    ms: Math.round((performance.now() - t0) * 10) / 10,
    cpuMs: Math.round((c.user + c.system) / 100) / 10,
    value,
  };
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-analytics-'));
try {
  const machine = describeMachine();
  const store = new SqliteStore(join(dir, 'sluice.db'));
  const analyticsStore = new SqliteAnalyticsStore(join(dir, 'analytics.db'));
  const analytics = new Analytics({ store, analytics: analyticsStore, bus: new EventBus() });
  const lines = history();
  process.stderr.write(`bench: ${lines.length} lines generated\n`);
  // As the CLI sends it: parts of about 2 MiB of whole lines.
  const importRun = await timed(async () => {
    let rejected = 0;
    for (let i = 0; i < lines.length;) {
      let bytes = 0;
      let j = i;
      while (j < lines.length && bytes < 2 * 1024 * 1024) bytes += lines[j++]!.length + 1;
      rejected += (await analytics.importText(lines.slice(i, j).join('\n'), 'file', 'bench')).rejected;
      i = j;
    }
    return rejected;
  });
  const again = await timed(() => analytics.importText(lines.slice(0, 50_000).join('\n'), 'file', 'bench'));
  const since = END - 182 * DAY;
  const query = { since, until: END, environment: 'production' };
  const dora: number[] = [];
  const doraCpu: number[] = [];
  let last = null as Awaited<ReturnType<Analytics['dora']>> | null;
  for (let i = 0; i < RUNS; i++) {
    const t = await timed(() => analytics.dora(query));
    dora.push(t.ms);
    doraCpu.push(t.cpuMs);
    last = t.value;
  }
  const oneService: number[] = [];
  for (let i = 0; i < RUNS; i++)
    oneService.push((await timed(() => analytics.dora({ ...query, service: 'svc-3' }))).ms);
  const weekly: number[] = [];
  const weeklyCpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = await timed(() => weeklyReport(analytics, { now: END, environment: 'production' }));
    weekly.push(t.ms);
    weeklyCpu.push(t.cpuMs);
  }
  analyticsStore.close();
  await store.close();
  const result = {
    bench: 'analytics',
    machine,
    history: { lines: lines.length, deployments: N, services: SERVICES, years: 2, rejected: importRun.value },
    importMs: importRun.ms,
    importCpuMs: importRun.cpuMs,
    importPerSecond: Math.round(lines.length / (importRun.ms / 1000)),
    reimport50kLinesMs: again.ms,
    reimportAdded: again.value.deployments.added + again.value.commits.added,
    sixMonthDoraMs: {
      median: median(dora),
      max: Math.max(...dora),
      firstRun: dora[0],
      runs: dora.length,
      cpuMedian: median(doraCpu),
      target: 500,
      met: Math.max(...dora) <= 500,
    },
    sixMonthDoraOneServiceMs: { median: median(oneService), max: Math.max(...oneService) },
    weeklyReportMs: {
      median: median(weekly),
      max: Math.max(...weekly),
      cpuMedian: median(weeklyCpu),
      target: 1000,
      met: Math.max(...weekly) <= 1000,
    },
    sixMonth: {
      deployments: last?.deployments.count,
      leadTimeCommits: last?.leadTime.counts.commits,
      changeFailureRate: last?.changeFailureRate.value,
    },
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
