import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REGRESSIONS, runCell, STEP_LENGTHS_MS, TRAFFIC_RPS } from './evidence-matrix.ts';

// A few releases per cell here; `npm run bench:judges` runs a thousand (bench/README.md).
const RELEASES = 2;
const TICK_MS = 1000;

test('across traffic levels, step lengths and regressions, a bad canary is never promoted', () => {
  for (const regression of REGRESSIONS.filter((r) => r.bad)) {
    for (const rps of TRAFFIC_RPS) {
      for (const stepMs of STEP_LENGTHS_MS) {
        const cell = runCell(rps, stepMs, regression, RELEASES, 100, TICK_MS);
        assert.equal(
          cell.promoted,
          0,
          `${regression.name} at ${rps} req/s, ${stepMs / 1000} s steps: promoted ${cell.promoted}/${RELEASES}`,
        );
        // A clear regression is rolled back, not merely held.
        if (regression.name !== 'errors_plus_1pt')
          assert.equal(cell.rolledBack, RELEASES, `${regression.name} at ${rps} req/s was not rolled back`);
      }
    }
  }
});

test('a healthy canary is promoted where the traffic can show it healthy, and held (never promoted) where it cannot', () => {
  const healthy = REGRESSIONS.find((r) => !r.bad)!;
  for (const rps of [40, 200]) {
    const cell = runCell(rps, 5000, healthy, RELEASES, 200, TICK_MS);
    assert.equal(cell.promoted, RELEASES, `healthy at ${rps} req/s: ${JSON.stringify(cell)}`);
    assert.equal(cell.rolledBack, 0);
  }
  // 10% of 5 req/s cannot show +0.5 points within the hour: held for a person, not promoted on hope.
  const quiet = runCell(5, 5000, healthy, 1, 300, TICK_MS);
  assert.deepEqual([quiet.promoted, quiet.rolledBack, quiet.held], [0, 0, 1]);
});
