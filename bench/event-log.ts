/**
 * How much one long release adds to the event log: a 24-hour release at a 1 s evaluation interval
 * (simulated clock, synthetic traffic, the controller's retention of routine evaluations), its
 * events written to a real SQLite store, bytes on disk measured. Without retention, one hour is
 * written and multiplied by 24. Prints one JSON object.
 *
 *   node bench/event-log.ts [--hours 24] [--rps 50]
 */
import type { NewEvent } from '../src/store/types.ts';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { contract } from '../src/core/testing/fixtures.ts';
import { replay } from '../src/core/release/reduce.ts';
import { simulate } from '../src/core/testing/simulator.ts';
import { emptyState } from '../src/core/release/state.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';

const { values } = parseArgs({
  options: { hours: { type: 'string', default: '24' }, rps: { type: 'string', default: '50' } },
});
const hours = Number(values.hours);
const rps = Number(values.rps);

/** A release held at 20% for longer than the run: every interval is judged, none ends it. */
function run(durationMs: number, retention: boolean) {
  return simulate({
    seed: 7,
    steps: [
      { kind: 'setWeight', weight: 20 },
      { kind: 'pause', durationMs: durationMs * 2 },
    ],
    contract: contract({
      intervalMs: 1000,
      windowMs: 60_000,
      maxInconclusiveMs: durationMs * 2,
      rules: contract().rules.map((r) => ({ ...r, judge: 'sequential' as const })),
    }),
    stable: { errorRate: 0.002, latencyMs: 20 },
    canary: { errorRate: 0.002, latencyMs: 20 },
    rps,
    durationMs,
    tickMs: 1000,
    retention,
  });
}

/** Writes the events (one commit per instant, as the controller does) to a fresh SQLite store; bytes on disk after close. */
async function storedBytes(
  events: ReturnType<typeof simulate>['events'],
): Promise<{ bytes: number; events: number; evaluations: number; bodyBytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-log-'));
  try {
    const store = new SqliteStore(join(dir, 'sluice.db'));
    let state = emptyState('sim');
    let i = 0;
    while (i < events.length) {
      let j = i;
      while (j < events.length && events[j]!.at === events[i]!.at) j++;
      const batch = events.slice(i, j);
      state = replay(state, batch);
      // The log's envelope (service, seq) comes off; the body stays as the controller commits it.
      await store.commit(
        'sim',
        batch.map(({ service: _s, seq: _q, ...e }) => e as NewEvent),
        state,
      );
      i = j;
    }
    await store.close();
    const bytes = statSync(join(dir, 'sluice.db')).size;
    const bodyBytes = events.reduce((n, e) => n + JSON.stringify(e).length, 0);
    return {
      bytes,
      events: events.length,
      evaluations: events.filter((e) => e.type === 'analysis.evaluated').length,
      bodyBytes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const t0 = Date.now();
process.stderr.write(`simulating ${hours} h at 1 s intervals with retention…\n`);
const retained = await storedBytes(run(hours * 3_600_000, true).events);
process.stderr.write('simulating 1 h without retention…\n');
const whole = await storedBytes(run(3_600_000, false).events);
const mb = (b: number) => Math.round((b / 1e6) * 100) / 100;
console.log(
  JSON.stringify(
    {
      bench: 'event-log',
      release: { hours, intervalMs: 1000, rps, canaryShare: 20, rules: 2, judge: 'sequential' },
      retained: { ...retained, mbOnDisk: mb(retained.bytes), mbPer24h: mb((retained.bytes * 24) / hours) },
      withoutRetention: { hours: 1, ...whole, mbOnDisk: mb(whole.bytes), mbPer24h: mb(whole.bytes * 24) },
      targetMbPer24h: 20,
      targetMet: (retained.bytes * 24) / hours <= 20e6,
      seconds: Math.round((Date.now() - t0) / 1000),
    },
    null,
    2,
  ),
);
