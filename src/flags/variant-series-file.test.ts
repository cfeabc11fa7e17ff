import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { FlagVerdict } from '../core/flags/flag-judge.ts';
import { VARIANT_SERIES_FILE, VariantSeriesFile } from './variant-series-file.ts';
import { VariantSeries } from './variant-series.ts';

const verdict = (variant: string, outcome: 'Pass' | 'Fail' | 'Inconclusive') =>
  ({ variant, judgment: { outcome, reason: `${variant} ${outcome}` } }) as unknown as FlagVerdict;

function dir(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'sluice-series-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A series of two flags sampled every second from `from` (ms) for `n` seconds. */
function sampled(from: number, n: number): VariantSeries {
  const s = new VariantSeries({ sampleMs: 1000, capacity: 100 });
  for (let i = 1; i <= n; i++) {
    const at = from + i * 1000;
    s.record(
      'a',
      'production',
      'off',
      at,
      { on: { requests: 10 * i, errors: i }, off: { requests: 10 * i, errors: 0 } },
      [verdict('on', i === n ? 'Fail' : 'Inconclusive')],
    );
    s.record('b', 'staging', 'off', at, { on: { requests: 5 * i, errors: 0 } }, [verdict('on', 'Pass')]);
  }
  return s;
}

test('a written series is read back after a restart, without the samples older than its window', async (t) => {
  const path = join(dir(t), VARIANT_SERIES_FILE);
  const logged: string[] = [];
  const log = (m: string) => logged.push(m);
  const before = sampled(0, 150);
  const writer = new VariantSeriesFile({ path, series: before, log, now: () => 150_000 });
  await writer.close();
  // Written aside and renamed: no temporary file left behind.
  assert.deepEqual(readdirSync(join(path, '..')), [VARIANT_SERIES_FILE]);

  const after = new VariantSeries({ sampleMs: 1000, capacity: 100 });
  await new VariantSeriesFile({ path, series: after, log, now: () => 150_000 }).load();
  assert.deepEqual(after.of('a'), before.of('a'));
  assert.deepEqual(after.of('b'), before.of('b'));
  assert.deepEqual(
    after
      .of('a')!
      .variants.find((v) => v.variant === 'on')!
      .outcome.at(-1),
    'Fail',
  );

  // 20.5 s later the window (100 samples of 1 s) starts at 70.5 s: the 20 oldest samples (51-70 s) are gone.
  const later = new VariantSeries({ sampleMs: 1000, capacity: 100 });
  await new VariantSeriesFile({ path, series: later, log, now: () => 170_500 }).load();
  assert.deepEqual(later.of('a')!.at, before.of('a')!.at.slice(20));
  // An hour later nothing is left: no flag has a series.
  const hourLater = new VariantSeries({ sampleMs: 1000, capacity: 100 });
  await new VariantSeriesFile({ path, series: hourLater, log, now: () => 3_750_000 }).load();
  assert.equal(hourLater.of('a'), null);
  assert.deepEqual(logged, []);

  // The proxy's counts at the last sample come back too: the next sample counts from them.
  after.record('a', 'production', 'off', 152_000, { on: { requests: 1510, errors: 160 } }, []);
  assert.equal(
    after
      .of('a')!
      .variants.find((v) => v.variant === 'on')!
      .requests.at(-1),
    10,
  );
});

test('the file is written only when a sample was kept since the last write', async (t) => {
  const path = join(dir(t), VARIANT_SERIES_FILE);
  const series = new VariantSeries({ sampleMs: 1000, capacity: 10 });
  const file = new VariantSeriesFile({ path, series, log: () => undefined, now: () => 1000 });
  await file.save();
  assert.equal(existsSync(path), false, 'nothing sampled, nothing written');
  series.record('a', 'production', 'off', 1000, { on: { requests: 1, errors: 0 } }, []);
  await file.save();
  const written = readFileSync(path, 'utf8');
  rmSync(path);
  await file.save();
  assert.equal(existsSync(path), false, 'unchanged since the last write');
  series.record('a', 'production', 'off', 2000, { on: { requests: 2, errors: 0 } }, []);
  await file.close();
  assert.notEqual(readFileSync(path, 'utf8'), written);
});

test('a truncated, foreign or wrongly shaped file is reported and ignored; the series start empty', async (t) => {
  const d = dir(t);
  const path = join(d, VARIANT_SERIES_FILE);
  const whole = (() => {
    const s = sampled(0, 5);
    const f = new VariantSeriesFile({ path, series: s, log: () => undefined, now: () => 5000 });
    return f.close().then(() => readFileSync(path, 'utf8'));
  })();
  const text = await whole;
  const doc = JSON.parse(text) as { flags: { a: { samples: { at: number; counts: unknown }[] } } };
  const negative = structuredClone(doc);
  negative.flags.a.samples[2]!.counts = { on: { requests: -1, errors: 0 } };
  const unordered = structuredClone(doc);
  unordered.flags.a.samples[3]!.at = 0;
  const cases: [string, string, RegExp][] = [
    ['truncated', text.slice(0, Math.floor(text.length / 2)), /not JSON .*truncated/],
    ['empty', '', /not JSON/],
    ['another format', JSON.stringify({ format: 2, flags: {} }), /not a series file of format 1/],
    ['a list', '[]', /not a series file/],
    [
      'negative counts',
      JSON.stringify(negative),
      /flags\.a\.samples\[2\]\.counts\.on: not \{ requests, errors \} counts/,
    ],
    ['out of order', JSON.stringify(unordered), /flags\.a\.samples: not in time order/],
  ];
  for (const [what, content, reason] of cases) {
    writeFileSync(path, content);
    const logged: string[] = [];
    const series = new VariantSeries({ sampleMs: 1000, capacity: 100 });
    await new VariantSeriesFile({ path, series, log: (m) => logged.push(m), now: () => 5000 }).load();
    assert.equal(series.of('a'), null, what);
    assert.equal(series.of('b'), null, what);
    assert.equal(logged.length, 1, what);
    assert.ok(logged[0]!.includes(path), `${what}: the log names the file`);
    assert.match(logged[0]!, reason, what);
  }

  // A directory where the file should be: reported, not thrown.
  rmSync(path);
  const logged: string[] = [];
  const blocked = join(d, 'sub');
  writeFileSync(blocked, 'a file, not a folder');
  await new VariantSeriesFile({
    path: join(blocked, VARIANT_SERIES_FILE),
    series: new VariantSeries(),
    log: (m) => logged.push(m),
  }).load();
  assert.equal(logged.length, 1);
  // No file at all is a first start: nothing to report.
  await new VariantSeriesFile({ path, series: new VariantSeries(), log: (m) => logged.push(m) }).load();
  assert.equal(logged.length, 1);
});

test('a write that fails is reported once, and the series are kept for the next try', async (t) => {
  const d = dir(t);
  writeFileSync(join(d, 'sub'), 'a file, not a folder');
  const logged: string[] = [];
  const series = new VariantSeries({ sampleMs: 1000, capacity: 10 });
  const file = new VariantSeriesFile({ path: join(d, 'sub', VARIANT_SERIES_FILE), series, log: (m) => logged.push(m) });
  series.record('a', 'production', 'off', Date.now(), { on: { requests: 1, errors: 0 } }, []);
  await file.save();
  await file.save();
  await file.close();
  assert.equal(logged.length, 1);
  assert.match(logged[0]!, /could not write .*sub\/flag-variant-series\.json/);
  assert.deepEqual(readdirSync(d), ['sub']);
});
