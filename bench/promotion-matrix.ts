/**
 * Promote only on evidence, measured in simulation (src/core/evidence-matrix.ts): for every traffic
 * level × step length × regression, `releases` simulated releases; how many bad canaries reached
 * 100% (the target is none) and how long a healthy one took. Cells are spread over worker threads,
 * one per core. Used by bench/judges.ts (`--matrix N`).
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  quantileOf,
  REGRESSIONS,
  runCell,
  STEP_LENGTHS_MS,
  TRAFFIC_RPS,
  type CellResult,
} from '../src/core/testing/evidence-matrix.ts';

/** The simulator's tick: the contract evaluates every second, so one tick per evaluation. */
const TICK_MS = 1000;

interface Cell {
  rps: number;
  stepMs: number;
  regression: string;
}

export interface PromotionCell {
  rps: number;
  stepSeconds: number;
  regression: string;
  bad: boolean;
  releases: number;
  promoted: number;
  rolledBack: number;
  held: number;
  /** Healthy cells: seconds from the release's start to 100%. */
  promoteSeconds: { median: number | null; p90: number | null } | null;
}

export async function promotionMatrix(
  releases: number,
  seed: number,
  progress: (line: string) => void,
): Promise<PromotionCell[]> {
  const cells: Cell[] = REGRESSIONS.flatMap((r) =>
    TRAFFIC_RPS.flatMap((rps) => STEP_LENGTHS_MS.map((stepMs) => ({ rps, stepMs, regression: r.name }))),
  );
  // The slow cells (low traffic, small regressions) go first so the workers finish together.
  const queue = [...cells].sort((a, b) => a.rps - b.rps);
  const results: CellResult[] = [];
  const workers = Math.max(1, Math.min(availableParallelism(), 8));
  await Promise.all(
    Array.from(
      { length: workers },
      () =>
        new Promise<void>((resolve, reject) => {
          const worker = new Worker(new URL(import.meta.url), { workerData: { releases, seed } });
          const next = () => {
            const cell = queue.shift();
            if (cell === undefined) {
              void worker.terminate().then(() => resolve());
              return;
            }
            worker.postMessage(cell);
          };
          worker.on('message', (r: CellResult) => {
            results.push(r);
            progress(
              `promotion matrix ${results.length}/${cells.length}: ${r.regression} at ${r.rps} req/s, ${r.stepMs / 1000} s steps: promoted ${r.promoted}/${r.releases}`,
            );
            next();
          });
          worker.on('error', reject);
          next();
        }),
    ),
  );
  const order = (c: { regression: string; rps: number; stepMs: number }) =>
    `${REGRESSIONS.findIndex((r) => r.name === c.regression)}:${String(c.rps).padStart(4, '0')}:${String(c.stepMs).padStart(7, '0')}`;
  return results
    .sort((a, b) => order(a).localeCompare(order(b)))
    .map((r) => ({
      rps: r.rps,
      stepSeconds: r.stepMs / 1000,
      regression: r.regression,
      bad: r.bad,
      releases: r.releases,
      promoted: r.promoted,
      rolledBack: r.rolledBack,
      held: r.held,
      promoteSeconds: r.bad
        ? null
        : { median: quantileOf(r.promoteSeconds, 0.5), p90: quantileOf(r.promoteSeconds, 0.9) },
    }));
}

if (!isMainThread) {
  const { releases, seed } = workerData as { releases: number; seed: number };
  parentPort!.on('message', (cell: Cell) => {
    const regression = REGRESSIONS.find((r) => r.name === cell.regression)!;
    parentPort!.postMessage(runCell(cell.rps, cell.stepMs, regression, releases, seed * 1_000_003, TICK_MS));
  });
}
