/** `sluice judge` as a person runs it: a real CLI process on real files, its output and exit codes. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseSamples } from './judge.ts';

const CLI = fileURLToPath(new URL('../../../bin/sluice.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sluice-judge-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, values: (number | string)[]): string {
  const path = join(dir, name);
  writeFileSync(path, values.join('\n') + '\n');
  return path;
}
function sluice(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'judge', ...args], { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

// Deterministic latencies: a spread of 20..120 ms, and the same shifted by 200 ms.
const spread = (n: number, shift = 0) => Array.from({ length: n }, (_, i) => shift + 20 + ((i * 37) % 101));
const base = file('base.csv', spread(900));
// Enough canary values for an upper bound on its p95 to come within the allowance.
const same = file('same.csv', spread(400));
const slow = file('slow.csv', spread(100, 200));

test('each judge fails a canary 200 ms slower (exit 1) and passes an equal one (exit 0)', async () => {
  for (const judge of ['sequential', 'mannWhitney', 'threshold']) {
    const bad = await sluice('--judge', judge, '--baseline', base, '--canary', slow, '--by', '50ms');
    assert.equal(bad.code, 1, `${judge}: ${bad.stdout}${bad.stderr}`);
    assert.match(bad.stdout, /: Fail\n  increase: Fail — /);
    const good = await sluice('--judge', judge, '--baseline', base, '--canary', same, '--by', '50ms');
    assert.equal(good.code, 0, `${judge}: ${good.stdout}${good.stderr}`);
  }
});

test("-o json: the verdict with the judge's figures (Mann–Whitney: U, p, estimate, 98% interval, classification)", async () => {
  const r = await sluice('--judge', 'mannWhitney', '--baseline', base, '--canary', slow, '-o', 'json');
  const v = JSON.parse(r.stdout);
  assert.equal(v.outcome, 'Fail');
  const f = v.checks[0].figures;
  assert.equal(f.classification, 'High');
  assert.equal(f.confLevel, 0.98);
  assert.equal(f.u, 90_000, 'every canary value is above every baseline value');
  assert.ok(f.pValue < 1e-10 && f.interval[0] <= 200 && 200 <= f.interval[1] && f.estimate === 200);
});

test('error rates from status codes; "either" runs both directions; too little data is Inconclusive (exit 5)', async () => {
  const baseline = file(
    'base-codes.csv',
    Array.from({ length: 900 }, (_, i) => (i % 300 === 0 ? 503 : 200)),
  );
  const canary = file(
    'canary-codes.csv',
    Array.from({ length: 100 }, (_, i) => (i % 5 === 0 ? 500 : i % 7 === 0 ? 0 : 204)),
  );
  const r = await sluice(
    '--judge',
    'sequential',
    '--metric',
    'error_rate',
    '--baseline',
    baseline,
    '--canary',
    canary,
    '--direction',
    'either',
    '--by',
    '1%',
    '-o',
    'json',
  );
  const v = JSON.parse(r.stdout);
  assert.equal(r.code, 1);
  assert.deepEqual(
    v.checks.map((c: { direction: string }) => c.direction),
    ['increase', 'decrease'],
  );
  assert.equal(v.checks[0].figures.canaryErrors, 20 + 12, '500s and connection errors (0) count');
  assert.equal(v.checks[0].figures.alpha, 0.0025, 'α is split between the two directions');
  const few = await sluice('--judge', 'sequential', '--baseline', base, '--canary', file('few.csv', [30, 40]));
  assert.equal(few.code, 5, few.stdout);
  assert.match(few.stdout, /Inconclusive/);
});

test('bad input: the file and line, or the flag and what is valid', async () => {
  const notNumber = await sluice(
    '--judge',
    'threshold',
    '--baseline',
    base,
    '--canary',
    file('bad.csv', [12, 13, 'abc']),
  );
  assert.equal(notNumber.code, 2);
  assert.match(notNumber.stderr, /bad\.csv:3: "abc" is not a number/);
  const badCode = await sluice(
    '--judge',
    'threshold',
    '--metric',
    'error_rate',
    '--baseline',
    file('codes.csv', [200, 2.5]),
    '--canary',
    same,
  );
  assert.match(badCode.stderr, /codes\.csv:2: 2\.5 is neither 0\/1/);
  const missing = await sluice('--judge', 'threshold', '--baseline', join(dir, 'nope.csv'), '--canary', same);
  assert.match(missing.stderr, /cannot read .*nope\.csv: ENOENT/);
  const flag = await sluice('--judge', 'bayes', '--baseline', base, '--canary', same);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /--judge "bayes" is not a judge; valid: sequential, mannWhitney, threshold/);
});

test('parseSamples: 0/1 flags as they are, status codes to flags, comments and blank lines skipped', () => {
  assert.deepEqual(parseSamples('f', '# flags\n0\n1\n\n0\n', true), [0, 1, 0]);
  assert.deepEqual(parseSamples('f', '200\n0\n503\n404\n', true), [0, 1, 1, 0]);
  assert.throws(() => parseSamples('f', '# nothing\n', false), /f: no values/);
  assert.throws(() => parseSamples('f', '5\n-1\n', false), /f:2: -1 is not a latency/);
});
