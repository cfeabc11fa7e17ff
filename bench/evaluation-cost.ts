/**
 * The control plane's CPU per evaluation and per tick, on a simulated clock: N services of the
 * scale bench (bench/scale-service.ts: a release in progress, synthetic traffic) driven for S
 * simulated seconds (ten ticks and one evaluation per second each) through the real core and a
 * store. Process CPU time, not wall time, so a busy machine changes it far less than bench:scale's
 * lag. Also a hash of the services' final states: two versions that decide the same give the same.
 * Prints one JSON object.
 *
 *   node bench/evaluation-cost.ts [--services 50] [--seconds 300] [--store memory|sqlite]
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MemoryStore } from '../src/store/memory/memory-store.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/types.ts';
import { BenchService } from './scale-service.ts';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '300' },
    store: { type: 'string', default: 'memory' },
  },
});
const N = Number(values.services);
const SECONDS = Number(values.seconds);
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-evaluation-'));
const store: Store = values.store === 'sqlite' ? new SqliteStore(join(dir, 'sluice.db')) : new MemoryStore();
const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
try {
  const services = Array.from({ length: N }, (_, i) => new BenchService(`svc-${i}`, store, { seed: i + 1, rps: 20 }));
  let now = 1_000_000;
  for (const s of services) await s.start(now);
  const commitsAtStart = services.reduce((n, s) => n + s.commits, 0);
  let evaluationUs = 0;
  let tickUs = 0;
  for (let second = 1; second <= SECONDS; second++) {
    for (let k = 0; k < 10; k++) {
      now += 100;
      const t = cpuUs();
      for (const s of services) await s.feed({ type: 'tick' }, now);
      tickUs += cpuUs() - t;
    }
    const t = cpuUs();
    for (const s of services) await s.evaluate(now);
    evaluationUs += cpuUs() - t;
  }
  const evaluations = N * SECONDS;
  console.log(
    JSON.stringify(
      {
        bench: 'evaluation-cost',
        store: values.store,
        services: N,
        simulatedSeconds: SECONDS,
        evaluations,
        commits: services.reduce((n, s) => n + s.commits, 0) - commitsAtStart,
        cpuPerEvaluationUs: Math.round(evaluationUs / evaluations),
        cpuPerTickUs: Math.round((tickUs / (evaluations * 10)) * 100) / 100,
        stateHash: createHash('sha256')
          .update(JSON.stringify(services.map((s) => s.state)))
          .digest('hex')
          .slice(0, 16),
      },
      null,
      2,
    ),
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
