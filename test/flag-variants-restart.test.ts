/**
 * The flag guard's per-variant series (GET /api/flags/:name/variants, the Flags page's per-variant
 * chart) survive a restart of a real `sluice server` on the same data dir: a crash (SIGKILL) keeps
 * what the last periodic write held, a stop (SIGTERM) everything; a truncated file is reported in
 * the log and ignored, and the server starts.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FlagVariantSeries } from '../src/views/index.ts';
import { deployedServer, type SluiceServer } from './support/sluice.ts';

const FLAG = `apiVersion: sluice.dev/v1alpha1
kind: FeatureFlag
metadata: { name: new-checkout }
spec:
  environments:
    production:
      rules: [{ name: ramp, rollout: { percent: 50 }, serve: "on" }]
  rollbackContract:
    service: checkout
    environment: production
    stickiness: { header: x-user-id }
    errorRate: { by: 0.01 }
`;

const FILE = 'flag-variant-series.json';

const series = async (server: SluiceServer) =>
  (await server.api<{ series: FlagVariantSeries | null }>('GET', '/api/flags/new-checkout/variants')).body.series;

/** The first `n` samples of a series: times and each variant's requests, errors and verdicts. */
const head = (s: FlagVariantSeries | null, n: number) =>
  s === null
    ? null
    : {
        at: s.at.slice(0, n),
        variants: s.variants.map((v) => ({
          variant: v.variant,
          requests: v.requests.slice(0, n),
          errors: v.errors.slice(0, n),
          outcome: v.outcome.slice(0, n),
        })),
      };

const total = (s: FlagVariantSeries | null) =>
  s?.variants.reduce((sum, v) => sum + v.requests.reduce((a, b) => a + b, 0), 0) ?? 0;

async function until<T>(what: string, server: SluiceServer, get: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    assert.ok(Date.now() - started < 60_000, `${what} not within 60 s\n${server.log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test(
  'per-variant series survive a crash and a stop of the server; a truncated file is ignored',
  { timeout: 240_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t, { instances: 1 });
    await server.apply(FLAG);
    let user = 0;
    let sending = true;
    const load = (async () => {
      while (sending) {
        await Promise.all(
          Array.from({ length: 10 }, () =>
            fetch(`http://127.0.0.1:${listenPort}/`, { headers: { 'x-user-id': `user-${user++}` } })
              .then((r) => r.arrayBuffer())
              .catch(() => undefined),
          ),
        );
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    t.after(async () => {
      sending = false;
      await load;
    });
    const path = join(server.dataDir, FILE);

    // Samples with traffic, and the periodic write (every 10 s) holding them.
    const first = await until(
      'two samples, the second with traffic, written to the data dir',
      server,
      async () => ({ s: await series(server), file: existsSync(path) ? readFileSync(path, 'utf8') : '' }),
      ({ s, file }) =>
        s !== null &&
        s.at.length >= 2 &&
        s.variants.every((v) => v.requests[1]! > 0) &&
        file.includes(`"at":${s.at[1]}`),
    );
    const written = (JSON.parse(first.file) as { flags: { 'new-checkout': { samples: unknown[] } } }).flags[
      'new-checkout'
    ].samples.length;
    t.diagnostic(`before the crash: ${first.s!.at.length} samples, ${written} written, ${total(first.s)} requests`);

    // A crash: no shutdown code runs; what the last write held comes back.
    await server.kill('SIGKILL');
    await server.restart();
    const afterCrash = await series(server);
    assert.deepEqual(head(afterCrash, written), head(first.s, written), 'the written samples, as they were');

    // More samples, then a stop: everything sampled up to the stop comes back.
    const more = await until(
      'a sample after the restart',
      server,
      () => series(server),
      (s) => s !== null && s.at.length > written + 1,
    );
    await server.kill('SIGTERM');
    await server.restart();
    const afterStop = await series(server);
    assert.deepEqual(head(afterStop, more!.at.length), head(more, more!.at.length), 'every sample up to the stop');

    // A truncated file: reported in the log and ignored; the server starts, and samples afresh.
    await server.kill('SIGKILL');
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.slice(0, Math.floor(text.length / 2)));
    const restartedAt = Date.now();
    await server.restart();
    assert.match(server.log, new RegExp(`${FILE} is ignored \\(not JSON .*truncated`));
    const fresh = await series(server);
    assert.ok(fresh === null || fresh.at.every((at) => at >= restartedAt), 'nothing read from the truncated file');
    const again = await until(
      'samples again after the truncated file',
      server,
      () => series(server),
      (s) => s !== null && s.at.length >= 1,
    );
    assert.ok(again!.at.every((at) => at >= restartedAt));
  },
);
