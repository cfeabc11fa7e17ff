/**
 * End to end, with a real server, real service processes and real HTTP traffic: blue-green with a
 * header preview and an instant undo, a preview listener, cohort routes + smoke + Verify in a
 * canary, and health probes failing a release.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startLoad, type Sample } from './support/load.ts';
import { answers, deployedServer, freePort, serviceSpec, type SpecOptions } from './support/sluice.ts';

/** The example service's spec with `strategy` replaced by the YAML given (indented under `strategy:`). */
function withStrategy(o: SpecOptions, strategy: string): string {
  const spec = serviceSpec(o);
  const start = spec.indexOf('  strategy:\n');
  const end = spec.indexOf('  rollbackContract:');
  return `${spec.slice(0, start)}  strategy:\n${strategy.replace(/^/gm, '    ')}\n${spec.slice(end)}`;
}

/** Requests without the preview header, in order. */
const plain = (samples: Sample[], header: (i: number) => boolean) => samples.filter((s) => !header(s.i));

test(
  'blue-green: preview by header, analysis on preview traffic, one switch, the old version kept warm, undo without start-up',
  { timeout: 120_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t);
    const v1Urls = (await server.status()).instances['1.0.0']!.map((i) => i.url).sort();
    const preview = (i: number) => i % 3 === 0;
    const load = startLoad({
      url: `http://127.0.0.1:${listenPort}/`,
      rps: 240,
      durationMs: 90_000,
      headers: (i): Record<string, string> => (preview(i) ? { 'x-preview': 'yes' } : {}),
    });
    t.after(() => load.stop());

    const applyAt = Date.now();
    await server.apply(
      withStrategy(
        { version: '2.0.0', listenPort },
        `blueGreen:
  previewHeader: { name: x-preview, value: "yes" }
  prePromotionAnalysis: true
  autoPromotion: true
  scaleDownDelay: 60s`,
      ),
    );
    await server.waitFor((s) => (s.instances['2.0.0']?.length ?? 0) === 2, 'new version started', 30_000);
    const startupMs = Date.now() - applyAt; // what an undo would cost without the warm old version
    const previewing = await server.waitFor(
      (s) => s.canaryVersion === '2.0.0' && (s.instances['2.0.0']?.length ?? 0) === 2 && s.verdicts.length > 0,
      'preview judged',
      30_000,
    );
    assert.equal(previewing.weights['2.0.0'] ?? 0, 0, 'no user traffic on the new version before the switch');
    const switched = await server.waitFor(
      (s) => s.phase === 'Healthy' && s.stableVersion === '2.0.0',
      'switched',
      30_000,
    );
    assert.deepEqual(switched.weights, { '2.0.0': 100, '1.0.0': 0 });
    // The evaluations that let it switch are in the log (a Healthy service shows no verdicts left from its release).
    assert.deepEqual(switched.verdicts, [], 'no verdicts left over once Healthy');
    const log = await server.api<{
      events: { type: string; verdicts?: { outcome: string; canarySamples: number }[] }[];
    }>('GET', '/api/services/checkout/events?after=0&limit=5000');
    const evaluated = log.body.events.filter((e) => e.type === 'analysis.evaluated').flatMap((e) => e.verdicts ?? []);
    assert.ok(
      evaluated.some((v) => v.outcome === 'Pass' && v.canarySamples >= 20),
      `judged on preview traffic: ${evaluated.length} verdicts`,
    );
    assert.deepEqual(switched.instances['1.0.0']!.map((i) => i.url).sort(), v1Urls, 'the old version is still running');
    for (const url of v1Urls) assert.equal(await answers(url), true);

    await new Promise((r) => setTimeout(r, 500));
    const undoAt = Date.now();
    const undone = await server.api<{ phase: string }>('POST', '/api/services/checkout/undo', {});
    assert.equal(undone.status, 200, JSON.stringify(undone.body));
    const back = await server.waitFor((s) => s.phase === 'Healthy' && s.stableVersion === '1.0.0', 'undone', 10_000);
    await new Promise((r) => setTimeout(r, 800));
    const report = await load.stop();

    assert.equal(report.failed, 0, `failed requests: ${JSON.stringify(report.byVersion)}`);
    assert.deepEqual(back.instances['1.0.0']!.map((i) => i.url).sort(), v1Urls, 'undo started no new instance');
    // Before the switch, users without the header saw only 1.0.0; the preview cohort saw 2.0.0.
    const users = plain(report.samples, preview).filter((s) => s.start < undoAt);
    const firstV2 = users.findIndex((s) => s.version === '2.0.0');
    assert.ok(firstV2 > 0, 'users reached 2.0.0 after the switch');
    assert.ok(users.slice(0, firstV2).every((s) => s.version === '1.0.0'));
    const settled = users.filter((s) => s.start > users[firstV2]!.start + 100);
    assert.ok(settled.length > 50 && settled.every((s) => s.version === '2.0.0'), 'one switch, never back and forth');
    const previewed = report.samples.filter(
      (s) => preview(s.i) && s.end < users[firstV2]!.start && s.version === '2.0.0',
    );
    assert.ok(
      previewed.length >= 20,
      `the preview cohort reached 2.0.0 before the switch (${previewed.length} requests)`,
    );
    // Undo: every request that starts some time after the call is on 1.0.0 again; that time is the undo's.
    const after = report.samples.filter((s) => s.start >= undoAt);
    const lastV2 = after.reduce((t, s) => (s.version === '2.0.0' ? Math.max(t, s.start) : t), undoAt);
    const undoMs = lastV2 - undoAt;
    process.stdout.write(
      `# blue-green undo: all traffic on 1.0.0 ${undoMs.toFixed(0)} ms after the undo call; starting a version took ${startupMs} ms\n`,
    );
    assert.ok(undoMs < 1000, `undo took ${undoMs} ms`);
    assert.ok(undoMs < startupMs, `undo (${undoMs} ms) is faster than a start-up (${startupMs} ms)`);
    assert.ok(after.filter((s) => s.start > lastV2).length > 50);
  },
);

test(
  'blue-green: a preview listener serves only the new version until the promote switches',
  { timeout: 90_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t);
    const previewPort = await freePort();
    await server.apply(
      withStrategy(
        { version: '2.0.0', listenPort },
        `blueGreen:
  previewListen: 127.0.0.1:${previewPort}
  autoPromotion: false
  scaleDownDelay: 0s`,
      ),
    );
    await server.waitFor((s) => s.phase === 'Paused' && s.canaryVersion === '2.0.0', 'waiting for promote', 30_000);
    const versionAt = async (port: number) => {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
      return res === null ? null : res.headers.get('x-version');
    };
    let previewVersion: string | null = null;
    for (let i = 0; i < 100 && previewVersion === null; i++) {
      previewVersion = await versionAt(previewPort);
      if (previewVersion === null) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(previewVersion, '2.0.0');
    for (let i = 0; i < 20; i++) assert.equal(await versionAt(listenPort), '1.0.0');

    await server.api('POST', '/api/services/checkout/promote', {});
    await server.waitFor((s) => s.phase === 'Healthy' && s.stableVersion === '2.0.0', 'switched', 20_000);
    for (let i = 0; i < 20; i++) assert.equal(await versionAt(listenPort), '2.0.0');
    await server.waitFor(
      (s) => Object.keys(s.instances).join() === '2.0.0',
      'old version retired (scaleDownDelay 0s)',
      20_000,
    );
    const closed = Date.now() + 10_000;
    while ((await versionAt(previewPort)) !== null && Date.now() < closed) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await versionAt(previewPort), null, 'the preview listener is closed after the switch');
  },
);

test(
  'canary: a cohort route first, a smoke gate, then Verifying at 100% until the window passes',
  { timeout: 120_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t);
    const cohort = (i: number) => i % 4 === 0;
    const load = startLoad({
      url: `http://127.0.0.1:${listenPort}/`,
      rps: 200,
      durationMs: 90_000,
      headers: (i): Record<string, string> => (cohort(i) ? { 'x-cohort': 'internal' } : {}),
    });
    t.after(() => load.stop());
    const smoke =
      'fetch(process.env.SLUICE_CANARY_URL + "/healthz").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(2))';
    await server.apply(
      withStrategy(
        { version: '2.0.0', listenPort },
        `canary:
  steps:
    - setHeaderRoute: { header: x-cohort, value: internal }
    - pause: { duration: 2s }
    - smoke: { command: ["node", "-e", ${JSON.stringify(smoke)}], timeout: 20s }
    - setWeight: 50
    - pause: { duration: 2s }
verify: { window: 4s }`,
      ),
    );
    const cohortOnly = await server.waitFor(
      (s) => s.canaryVersion === '2.0.0' && s.step?.current?.startsWith('pause') === true && s.step.index === 1,
      'cohort step',
      30_000,
    );
    assert.equal(cohortOnly.weights['2.0.0'] ?? 0, 0);
    const verifying = await server.waitFor((s) => s.phase === 'Verifying', 'Verifying', 40_000);
    assert.equal(verifying.weights['2.0.0'], 100);
    assert.equal(verifying.release?.status, 'Verifying');
    assert.ok((verifying.instances['1.0.0']?.length ?? 0) === 2, 'the previous version runs through Verify');
    await server.waitFor((s) => s.phase === 'Healthy' && s.stableVersion === '2.0.0', 'verified', 30_000);
    // Verify lasts its window (4s), from the event that started it to the one that ended it: never
    // shorter, and longer only by the tick that notices (the contract's interval, 250ms here) and
    // the healthy verdicts it waits for. Measured 4000-4047ms (3 runs side by side); 5s leaves four
    // ticks' room for a loaded machine.
    const events = (
      await server.api<{ events: { type: string; at: number | string }[] }>(
        'GET',
        '/api/services/checkout/events?limit=10000',
      )
    ).body.events;
    const started = events.filter((e) => e.type === 'release.verifying').at(-1);
    const ended = events.filter((e) => e.type === 'release.succeeded').at(-1);
    assert.ok(started && ended, 'release.verifying and release.succeeded events');
    const verifiedMs = new Date(ended.at).getTime() - new Date(started.at).getTime();
    assert.ok(verifiedMs >= 4000 && verifiedMs <= 5000, `Verifying lasted ${verifiedMs}ms; the window is 4s`);
    const report = await load.stop();
    assert.equal(report.failed, 0);
    // The cohort reached 2.0.0 while everyone else was still on 1.0.0 (before the 50% step).
    const firstUser = report.samples.find((s) => !cohort(s.i) && s.version === '2.0.0');
    assert.ok(firstUser, 'users reached 2.0.0 at 50%');
    assert.ok(
      report.samples.some((s) => cohort(s.i) && s.version === '2.0.0' && s.start < firstUser.start - 1000),
      'the cohort came first',
    );
    await server.waitFor((s) => Object.keys(s.instances).join() === '2.0.0', 'v1 retired after Verify', 20_000);
  },
);

test(
  'health probes: an instance failing its probes fails the release, with the evidence',
  { timeout: 90_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t);
    await server.apply(
      withStrategy(
        { version: '2.0.0', listenPort, env: { FAIL_RATE: '1' } },
        `canary:
  steps:
    - setWeight: 10
    - pause: {}
probes:
  http: { path: /, interval: 200ms, timeout: 1s, failureThreshold: 3 }`,
      ),
    );
    const rolledBack = await server.waitFor(
      (s) => s.phase === 'RolledBack' && s.lastRollback?.trafficRevertedAt != null,
      'rolled back by the probes',
      30_000,
    );
    const rb = rolledBack.lastRollback!;
    assert.equal(rb.trigger, 'probe');
    assert.match(rb.reason, /failed 3 probes in a row; last: HTTP 500/);
    assert.equal(rolledBack.weights['1.0.0'], 100);
  },
);

test(
  'a controller killed while Verifying resumes the window from the log and completes; the warm version is retired',
  { timeout: 90_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t);
    const load = startLoad({ url: `http://127.0.0.1:${listenPort}/`, rps: 150, durationMs: 60_000 });
    t.after(() => load.stop());
    await server.apply(
      withStrategy(
        { version: '2.0.0', listenPort },
        `canary:
  steps:
    - setWeight: 50
    - pause: { duration: 1s }
verify: { window: 15s }`,
      ),
    );
    const verifying = await server.waitFor((s) => s.phase === 'Verifying', 'Verifying', 40_000);
    await server.kill('SIGKILL');
    await server.restart();
    assert.equal((await server.status()).phase, 'Verifying', 'still Verifying after the restart');
    const done = await server.waitFor(
      (s) => s.phase === 'Healthy' && s.stableVersion === '2.0.0',
      'verified after restart',
      30_000,
    );
    const verifiedFor = Date.parse(done.release!.endedAt!) - Date.parse(verifying.release!.startedAt);
    assert.ok(verifiedFor >= 15_000, `ended ${verifiedFor} ms after the release started: the window was kept`);
    await server.waitFor((s) => Object.keys(s.instances).join() === '2.0.0', 'v1 retired', 20_000);
    const report = await load.stop();
    assert.equal(report.failed, 0);
  },
);
