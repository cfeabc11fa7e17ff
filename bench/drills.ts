/**
 * The drills benchmark (`npm run bench:drills [-- --runs N]`): for each fault kind, the time to
 * detect (first faulted request → the contract's Fail) and to restore (→ the last faulted
 * request) of a GameDay faulting 100% of a 10% canary at 200 requests/s; the fault injection's
 * cost per request in the proxy's request path; and how long the safety lever takes to clear
 * 100 active faults under that load. Prints one JSON object on stdout; progress goes to stderr.
 * Every figure is defined in bench/README.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { FaultRule } from '../src/core/drills/fault.ts';
import type { DrillRecord } from '../src/core/drills/record.ts';
import { FaultBook } from '../src/proxy/fault-book.ts';
import { startLoad } from '../test/support/load.ts';
import { freePort, serviceSpec, SluiceServer } from '../test/support/sluice.ts';
import { describeMachine } from './machine.ts';

const RPS = 200;
const STEPS = ['setWeight: 10', 'pause: { duration: 10m }'];
/** Each kind and the GameDay fault that makes it; latency needs the contract's latency rule (p95 +300ms). */
const KINDS = [
  { kind: 'error', fault: '{ target: canary, errors: 503, percent: 100, for: 60s }' },
  { kind: 'reset', fault: '{ target: canary, errors: reset, percent: 100, for: 60s }' },
  { kind: 'abort', fault: '{ target: canary, abort: true, percent: 100, for: 60s }' },
  { kind: 'latency', fault: '{ target: canary, latency: 1500ms, percent: 100, for: 60s }' },
  /** The canary's one instance SIGKILLed (the process target restarts it): instance_crashes fails it. */
  { kind: 'instance-kill', fault: '{ target: instance, kill: 1, version: canary, for: 30s }' },
  /** The canary's one instance SIGSTOPped: its requests hang until the latency rule fails it. */
  { kind: 'instance-stop', fault: '{ target: instance, stop: 1, version: canary, for: 30s }' },
] as const;
/** The tests' contract (error rate +2 points, p95 +300 ms) and a crash of the canary's instances. */
const CONTRACT = `    interval: 250ms
    window: 5s
    minSamples: 20
    rules:
      - { metric: error_rate, failIf: { above: baseline, by: 0.02 } }
      - { metric: latency_p95, failIf: { above: baseline, by: 300ms } }
      - { metric: instance_crashes, failIf: { above: 0 } }`;

/** Faults that took a request in the overhead loop (kept so the loop is not optimised away). */
let sink = 0;
const log = (text: string) => process.stderr.write(`bench:drills ${text}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.floor((s.length - 1) / 2)]!;
};
const range = (xs: number[]) => ({
  median: median(xs),
  min: xs.length === 0 ? null : Math.min(...xs),
  max: xs.length === 0 ? null : Math.max(...xs),
  runs: xs.length,
});

function drill(name: string, url: string, fault: string): string {
  return `apiVersion: sluice.dev/v1alpha1
kind: GameDay
metadata: { name: ${name} }
spec:
  service: checkout
  hypothesis:
    probes:
      - { name: home, http: { url: "${url}" }, every: 500ms, tolerance: 50% }
  method:
    - fault: ${fault}
  steadyState: { before: 500ms, after: 500ms }
`;
}

/** One kind: a release at 10%, the GameDay, its record. */
async function oneRun(
  server: SluiceServer,
  listenPort: number,
  version: string,
  kind: (typeof KINDS)[number],
  run: number,
): Promise<DrillRecord> {
  await server.apply(serviceSpec({ version, listenPort, steps: STEPS, instances: 1, contract: CONTRACT }));
  await server.waitFor((s) => s.appliedWeights[version] === 10, `${version} at 10%`, 60_000);
  const r = await server.api<DrillRecord>('POST', '/api/gamedays/run', {
    spec: drill(`bench-${kind.kind}-${run}`, `http://127.0.0.1:${listenPort}/`, kind.fault),
    file: 'bench.yaml',
    wait: true,
  });
  if (r.status !== 200) throw new Error(`the drill was refused (${r.status}): ${JSON.stringify(r.body)}`);
  await server.waitFor((s) => s.phase === 'RolledBack' || s.phase === 'Healthy', 'the release ended', 60_000);
  return r.body;
}

/** ns per request the request path spends on faults: none held, one on another revision, ten on this one that do not take it. */
function overhead(): Record<string, number> {
  const raw = ['host', 'shop', 'user-agent', 'load', 'accept', '*/*', 'x-user-id', 'user-42'];
  // The same expression as the request path (forward.ts); a warm-up round, then the measured one.
  const measure = (book: FaultBook): number => {
    const n = 2_000_000;
    let ns = NaN;
    for (let round = 0; round < 2; round++) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < n; i++) if ((book.size === 0 ? undefined : book.pick('1', raw)) !== undefined) sink++;
      ns = Number(process.hrtime.bigint() - started) / n;
    }
    return Math.round(ns * 10) / 10;
  };
  const rule = (id: string, key: string, extra: Partial<FaultRule> = {}): FaultRule => ({
    id,
    key,
    effect: { kind: 'error', status: 503 },
    percent: 0.0001,
    ttlMs: 3_600_000,
    ...extra,
  });
  const none = new FaultBook();
  const other = new FaultBook();
  other.set([rule('a', '2', { percent: 100 })], Date.now());
  const ten = new FaultBook();
  ten.set(
    Array.from({ length: 10 }, (_, i) => rule(`f${i}`, '1', i % 2 === 0 ? {} : { cohort: { header: 'x-user-id' } })),
    Date.now(),
  );
  const out = {
    noFaults: measure(none),
    faultOnAnotherRevision: measure(other),
    tenFaultsOnThisRevision: measure(ten),
    taken: sink,
  };
  for (const b of [none, other, ten]) b.close();
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 20)
    throw new Error(`--runs "${values.runs}" is not a whole number from 1 to 20`);
  const machine = describeMachine();
  const server = await SluiceServer.start();
  try {
    const listenPort = await freePort();
    await server.apply(serviceSpec({ version: '1.0.0', listenPort, steps: STEPS, instances: 1, contract: CONTRACT }));
    await server.waitForPhase('Healthy', 60_000);
    const load = startLoad({ url: `http://127.0.0.1:${listenPort}/`, rps: RPS, durationMs: 9 * 60_000 });
    const kinds: Record<
      string,
      { timeToDetectMs: ReturnType<typeof range>; timeToRestoreMs: ReturnType<typeof range>; verdicts: string[] }
    > = {};
    let version = 1;
    for (const kind of KINDS) {
      const detect: number[] = [];
      const restore: number[] = [];
      const verdicts: string[] = [];
      for (let run = 1; run <= runs; run++) {
        version++;
        const r = await oneRun(server, listenPort, `${version}.0.0`, kind, run);
        log(`${kind.kind} #${run}: ${r.status}, detect ${r.timeToDetectMs} ms, restore ${r.timeToRestoreMs} ms`);
        verdicts.push(r.status);
        if (r.timeToDetectMs !== null) detect.push(r.timeToDetectMs);
        if (r.timeToRestoreMs !== null) restore.push(r.timeToRestoreMs);
      }
      kinds[kind.kind] = { timeToDetectMs: range(detect), timeToRestoreMs: range(restore), verdicts };
    }

    // The safety lever: 100 faults held by the proxy (each on 0.01% of the stable revision's requests), then one stop.
    const secret = readFileSync(join(server.dataDir, 'services', 'checkout', 'router', 'admin.secret'), 'utf8').trim();
    const { adminUrl } = JSON.parse(
      readFileSync(join(server.dataDir, 'services', 'checkout', 'router', 'proxy.json'), 'utf8'),
    ) as { adminUrl: string };
    const lever: number[] = [];
    const serverSide: number[] = [];
    for (let run = 1; run <= runs; run++) {
      // The lever sweeps again 200 ms after it answered: the next run's faults come after that.
      await new Promise((r) => setTimeout(r, 500));
      const faults = Array.from({ length: 100 }, (_, i): FaultRule => ({
        id: `lever/${run}/${i}`,
        key: '1',
        effect: { kind: 'latency', ms: 1 },
        percent: 0.01,
        ttlMs: 60_000,
      }));
      const set = await fetch(`${adminUrl}/faults`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${secret}` },
        body: JSON.stringify({ faults }),
      });
      if (!set.ok) throw new Error(`setting 100 faults failed: ${await set.text()}`);
      const started = performance.now();
      const stop = await server.api<{ removed: number; ms: number }>('POST', '/api/gamedays/stop', { all: true });
      lever.push(Math.round((performance.now() - started) * 10) / 10);
      if (stop.body.removed !== 100) throw new Error(`the safety lever removed ${stop.body.removed} of 100 faults`);
      serverSide.push(stop.body.ms);
      const left = (await (
        await fetch(`${adminUrl}/faults`, { headers: { authorization: `Bearer ${secret}` } })
      ).json()) as { faults: unknown[] };
      if (left.faults.length !== 0) throw new Error(`${left.faults.length} faults left after the safety lever`);
    }
    const report = await load.stop();
    process.stdout.write(
      `${JSON.stringify(
        {
          benchmark: 'drills',
          at: new Date().toISOString(),
          machine,
          rps: RPS,
          canaryWeight: 10,
          runs,
          load: { sent: report.sent, failed: report.failed, rps: Math.round(report.rps) },
          kinds,
          overheadNsPerRequest: overhead(),
          safetyLever100Faults: { clientMs: range(lever), serverMs: range(serverSide) },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await server.close();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench:drills failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
