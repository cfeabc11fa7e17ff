/**
 * End to end: real releases through the built-in proxy under real traffic — one that succeeds, one
 * rolled back by its contract — give the four keys the log says they should, a retrospective whose
 * timeline is the log's, and Sluice's own metrics scraped by a real Prometheus.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { freeListenPort } from '../src/drivers/free-port.ts';
import { waitFor } from '../src/drivers/targets/fixtures/wait-for.ts';
import { startLoad } from './support/load.ts';
import { withoutServer } from './support/servers.ts';
import { CLI, deployedServer, ROOT, serviceSpec, type SluiceServer } from './support/sluice.ts';

interface Ev {
  seq: number;
  type: string;
  at: number;
  weights?: Record<string, number>;
  release?: { number: number; to: { key: string; version: string } };
}

async function allEvents(server: SluiceServer): Promise<Ev[]> {
  const out: Ev[] = [];
  for (let after = 0; ;) {
    const page = (await server.api<{ events: Ev[] }>('GET', `/api/services/checkout/events?after=${after}&limit=1000`))
      .body.events;
    out.push(...page);
    if (page.length < 1000) return out;
    after = page.at(-1)!.seq;
  }
}

test(
  'a real release and a real rollback give the expected four keys, a retrospective from the log, and /metrics',
  { timeout: 150_000 },
  async (t) => {
    const startedAt = Date.now();
    const { server, listenPort } = await deployedServer(t);
    const load = startLoad({
      url: `http://127.0.0.1:${listenPort}/`,
      rps: 150,
      durationMs: 90_000,
      headers: (i) => ({ 'x-user-id': `u${i % 50}` }),
    });
    t.after(() => load.stop());

    // 2.0.0 ships a commit made an hour ago: its time is imported, the release names it with apply --commit.
    const committedAt = Date.now() - 3_600_000;
    await server.api('POST', '/api/analytics/import', {
      text: JSON.stringify({
        type: 'commit',
        sha: 'c0ffee42',
        service: 'checkout',
        committedAt: new Date(committedAt).toISOString(),
      }),
    });
    const dir = mkdtempSync(join(tmpdir(), 'sluice-spec-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'checkout.yaml'), serviceSpec({ version: '2.0.0', listenPort }));
    const applied = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [CLI, 'apply', '-f', join(dir, 'checkout.yaml'), '--commit', 'c0ffee42'],
        { cwd: ROOT, env: { ...process.env, SLUICE_SERVER: server.url, SLUICE_TOKEN: server.token }, timeout: 60_000 },
        (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    assert.equal(applied.code, 0, applied.stderr);
    await server.waitFor((s) => s.phase === 'Healthy' && s.stableVersion === '2.0.0', 'v2 stable', 60_000);
    await server.apply(
      serviceSpec({ version: '3.0.0', listenPort, env: { FAIL_RATE: '0.5' }, steps: ['setWeight: 20', 'pause: {}'] }),
    );
    const rolledBack = await server.waitFor(
      (s) => s.phase === 'RolledBack' && s.lastRollback?.trafficRevertedAt != null,
      'v3 rolled back',
      45_000,
    );
    await load.stop();

    // What the log says, read independently of the analytics code.
    const events = await allEvents(server);
    const starts = events.filter((e) => e.type === 'release.started');
    const v3 = starts.find((e) => e.release!.to.version === '3.0.0')!;
    const v3Key = v3.release!.to.key;
    const firstTraffic = events.find(
      (e) => e.seq > v3.seq && e.type === 'traffic.applied' && (e.weights![v3Key] ?? 0) > 0,
    )!;
    const reverted = events.find((e) => e.seq > v3.seq && e.type === 'rollback.trafficReverted')!;
    const succeeded = events.filter((e) => e.type === 'release.succeeded').length;
    const v2 = starts.find((e) => e.release!.to.version === '2.0.0')!;
    const v2Succeeded = events.find((e) => e.seq > v2.seq && e.type === 'release.succeeded')!;

    await t.test('the four keys of the window', async () => {
      const q = new URLSearchParams({
        service: 'checkout',
        since: new Date(startedAt - 60_000).toISOString(),
        until: new Date(Date.now() + 60_000).toISOString(),
      });
      const k = (await server.api<Record<string, any>>('GET', `/api/analytics/dora?${q.toString()}`)).body;
      assert.deepEqual(
        k.deployments,
        { count: succeeded + 1, succeeded, rolledBack: 1 },
        JSON.stringify(k.deployments),
      );
      assert.equal(k.changeFailureRate.value, 1 / (succeeded + 1));
      assert.deepEqual(k.changeFailureRate.counts, {
        deployments: succeeded + 1,
        failed: 1,
        rolledBack: 1,
        followedByIncident: 0,
      });
      assert.deepEqual(k.timeToRestore.counts, { rollbacks: 1, incidents: 0, unresolvedIncidents: 0 });
      assert.equal(
        k.timeToRestore.medianS,
        (reverted.at - firstTraffic.at) / 1000,
        'first production traffic of 3.0.0 → traffic reverted',
      );
      assert.equal(k.rollbackTime.count, 1);
      assert.equal(k.rollbackTime.medianS, rolledBack.lastRollback!.revertMs! / 1000);
      // 2.0.0 and 3.0.0 went 0 → 20% → …; the first deploy of 1.0.0 went to 100% at once.
      assert.equal(k.progressive.counts.yes, 2);
      assert.equal(k.progressive.counts.known, succeeded + 1);
      assert.equal(k.deploymentFrequency.counts.deployDays >= 1, true);
      // apply --commit: 2.0.0 shipped c0ffee42; its lead time ends when 2.0.0 took all traffic.
      assert.deepEqual(k.leadTime.counts, { commits: 1, withoutCommitTime: 0 });
      assert.equal(k.leadTime.medianS, (v2Succeeded.at - committedAt) / 1000);
    });

    await t.test(
      'the retrospective of the rollback: its timeline is the log, with the chain position it came from',
      async () => {
        const doc = (
          await server.api<{
            title: string;
            release: number;
            generatedFrom: { seq: number; hash: string };
            sections: { heading: string; body: any }[];
            markdown: string;
          }>('GET', `/api/services/checkout/documents/retro?release=${v3.release!.number}`)
        ).body;
        assert.equal(doc.release, v3.release!.number);
        assert.deepEqual(
          doc.sections.map((s) => s.heading),
          [
            'Summary',
            'Impact',
            'Root causes',
            'Trigger',
            'Detection',
            'Resolution',
            'Timeline',
            'What went well',
            'What went badly',
            'Action items',
          ],
        );
        const timeline = doc.sections.find((s) => s.heading === 'Timeline')!.body as {
          at: string;
          seq: number;
          event: string;
        }[];
        // The log as it is now (the canary's stop may have come after the first read).
        const bySeq = new Map((await allEvents(server)).map((e) => [e.seq, e]));
        for (const row of timeline)
          assert.equal(
            row.at,
            new Date(bySeq.get(row.seq)!.at).toISOString(),
            `timeline row ${row.seq} is the event's time`,
          );
        const seqs = timeline.map((r) => r.seq);
        assert.deepEqual(
          seqs,
          [...seqs].sort((a, b) => a - b),
        );
        assert.equal(seqs[0], v3.seq, 'it starts at the release');
        assert.ok(seqs.includes(reverted.seq) && seqs.includes(firstTraffic.seq));
        assert.ok(timeline.some((r) => /^rollback started \(contract, trigger error_rate\)/.test(r.event)));
        const impact = doc.sections.find((s) => s.heading === 'Impact')!.body as Record<string, unknown>;
        assert.ok(Number(impact['failed requests (new version)']) > 0, JSON.stringify(impact));
        assert.equal(
          impact['duration (first traffic → reverted)'],
          `${((reverted.at - firstTraffic.at) / 1000).toFixed(3)} s`,
        );
        assert.match(doc.markdown, /^# Retrospective: checkout 3\.0\.0/);
        // The position it names is in the audit trail.
        const verify = await server.api<{ ok: boolean }>(
          'GET',
          `/api/audit/verify?anchor=${doc.generatedFrom.seq}:${doc.generatedFrom.hash}`,
        );
        assert.equal(verify.body.ok, true);
        // …and it was opened by itself, as an event.
        const log = await (
          await fetch(`${server.url}/api/audit/export`, { headers: { authorization: `Bearer ${server.token}` } })
        ).text();
        const opened = log
          .split('\n')
          .filter((l) => l.includes('"retrospective.opened"'))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        assert.ok(
          opened.some(
            (e) =>
              e.id === `checkout-retro-${v3.release!.number}` && e.target === 'checkout' && e.service === '_server',
          ),
          `retrospective.opened recorded for checkout under _server: ${JSON.stringify(opened)}`,
        );
        // The plan of 2.0.0 names the commit it shipped, with its time.
        const plan = (
          await server.api<{ sections: { heading: string; body: any }[] }>(
            'GET',
            `/api/services/checkout/documents/plan?release=${v2.release!.number}`,
          )
        ).body;
        assert.deepEqual(plan.sections.find((s) => s.heading === 'Commits')!.body, [
          { sha: 'c0ffee42', committed: new Date(committedAt).toISOString(), message: '' },
        ]);
        const rollback = (
          await server.api<{ sections: { heading: string; body: any }[] }>(
            'GET',
            '/api/services/checkout/documents/rollback',
          )
        ).body;
        assert.equal(rollback.sections[0]!.body.rule, 'error_rate');
      },
    );

    await t.test(
      'the dashboard Analytics page: six-month charts, and a storyboard whose frames open the documents',
      { skip: withoutServer('chromium', 'chromium') },
      async () => {
        const browser = await chromium.launch({
          executablePath: '/usr/bin/chromium',
          args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
        });
        t.after(() => browser.close());
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        await context.addInitScript((token) => localStorage.setItem('sluice.token', token), server.token);
        const page = await context.newPage();
        await page.goto(`${server.url}/analytics`);
        await page.getByTestId('analytics-service').selectOption('checkout');
        await page
          .getByTestId('analytics-keys')
          .getByText(`${succeeded + 1} deployments`)
          .waitFor({ timeout: 15_000 });
        assert.match(await page.getByTestId('analytics-keys').innerText(), /1\/\d+ failed/);
        for (const id of [
          'chart-deployments',
          'chart-lead-time',
          'chart-change-failure-rate',
          'chart-time-to-restore',
        ]) {
          const box = await page.locator(`svg#${id}`).boundingBox();
          assert.ok(box !== null && box.width > 300, `${id} is drawn`);
        }
        assert.ok((await page.locator('svg#chart-deployments rect.mark').count()) >= 1, 'this week has a bar');
        // The environment and team filters come from what the history knows.
        assert.deepEqual(await page.getByTestId('analytics-env').locator('option').allTextContents(), ['production']);
        // The storyboard follows the service: its last release, rolled back.
        const board = page.getByTestId('storyboard');
        await board
          .getByTestId('storyboard-release-line')
          .getByText(`checkout release ${v3.release!.number}: 3.0.0, RolledBack`)
          .waitFor({ timeout: 10_000 });
        const statuses = async () =>
          Object.fromEntries(
            await Promise.all(
              ['Plan', 'Stage', 'Release', 'Verify', 'Rollback'].map(
                async (f) => [f, await board.getByTestId(`frame-${f}`).getAttribute('data-status')] as const,
              ),
            ),
          );
        assert.deepEqual(await statuses(), {
          Plan: 'done',
          Stage: 'done',
          Release: 'failed',
          Verify: 'skipped',
          Rollback: 'done',
        });
        await page.getByTestId('frame-Rollback').click();
        const doc = page.getByTestId('frame-document');
        await doc
          .getByText(`Rollback: Rollback log: checkout release ${v3.release!.number} (3.0.0)`)
          .waitFor({ timeout: 10_000 });
        assert.match(await doc.innerText(), /generated from the log at sequence \d+, chain hash [0-9a-f]{16}…/);
        // Its checklist is the log's: the revert, to the millisecond.
        const checklist = await doc.getByTestId('frame-checklist').innerText();
        assert.match(
          checklist,
          new RegExp(
            `✓ traffic reverted: at ${new Date(reverted.at).toISOString().replace(/\./g, '\\.')}, \\d+ ms after detection`,
          ),
        );
        await page.getByTestId('frame-Plan').click();
        await doc.getByText('Plan: Release plan: checkout 2.0.0 → 3.0.0').waitFor({ timeout: 10_000 });
        assert.match(await doc.getByTestId('frame-checklist').innerText(), /✓ rollback contract: 2 rule\(s\)/);
        // An earlier release: 2.0.0 succeeded, so Verify is done and Rollback skipped.
        await board.getByTestId('storyboard-release').selectOption(String(v2.release!.number));
        await board
          .getByTestId('storyboard-release-line')
          .getByText(`checkout release ${v2.release!.number}: 2.0.0, Succeeded`)
          .waitFor({ timeout: 10_000 });
        assert.deepEqual(await statuses(), {
          Plan: 'done',
          Stage: 'done',
          Release: 'done',
          Verify: 'done',
          Rollback: 'skipped',
        });
        // Every document is there, the runbook too.
        await board.getByTestId('doc-runbook').click();
        await doc.getByText('Runbook: Runbook: checkout').waitFor({ timeout: 10_000 });
        assert.match(await doc.innerText(), /sluice wait checkout --for healthy/);
        await board.getByTestId('doc-retro').click();
        await doc
          .getByText(`Retrospective: Retrospective: checkout 2.0.0 (release ${v2.release!.number})`)
          .waitFor({ timeout: 10_000 });
      },
    );

    await t.test(
      'GET /metrics in the Prometheus text format, scraped by a real Prometheus with a viewer token',
      { skip: withoutServer('prometheus', 'prometheus') },
      async () => {
        assert.equal((await fetch(`${server.url}/metrics`)).status, 401, 'a token is needed');
        const viewer = await server.createToken('viewer', 'prometheus');
        const text = await (
          await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${viewer}` } })
        ).text();
        assert.match(text, /^sluice_rollbacks_total\{service="checkout",kind="contract"\} 1$/m);
        assert.match(text, /^sluice_time_to_revert_seconds_count\{service="checkout"\} 1$/m);
        assert.match(
          text,
          new RegExp(`^sluice_releases_ended_total\\{service="checkout",outcome="succeeded"\\} ${succeeded}$`, 'm'),
        );
        assert.match(text, /^sluice_verdicts_total\{service="checkout",rule="error_rate",outcome="Fail"\} \d+$/m);
        const dir = mkdtempSync(join(tmpdir(), 'sluice-prom-'));
        t.after(() => rmSync(dir, { recursive: true, force: true }));
        writeFileSync(join(dir, 'token'), viewer);
        writeFileSync(
          join(dir, 'prometheus.yml'),
          [
            'global: { scrape_interval: 1s, scrape_timeout: 1s }',
            'scrape_configs:',
            '  - job_name: sluice',
            `    authorization: { credentials_file: ${join(dir, 'token')} }`,
            `    static_configs: [{ targets: ["${new URL(server.url).host}"] }]`,
          ].join('\n'),
        );
        const port = await freeListenPort();
        const prom = spawn(
          '/usr/bin/prometheus',
          [
            `--config.file=${join(dir, 'prometheus.yml')}`,
            `--storage.tsdb.path=${join(dir, 'data')}`,
            `--web.listen-address=127.0.0.1:${port}`,
            '--log.level=warn',
          ],
          { stdio: 'ignore' },
        );
        t.after(() => {
          prom.kill('SIGKILL');
        });
        let value: string | undefined;
        await waitFor(
          'Prometheus to scrape sluice_rollbacks_total',
          async () => {
            const r = await fetch(
              `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent('sluice_rollbacks_total{job="sluice",kind="contract"}')}`,
            )
              .then((x) => (x.ok ? (x.json() as Promise<{ data?: { result?: { value: [number, string] }[] } }>) : null))
              .catch(() => null);
            value = r?.data?.result?.[0]?.value[1];
            return value !== undefined;
          },
          40_000,
        );
        assert.equal(value, '1');
        // Every query of the Grafana dashboard in docs/ runs on what Prometheus scraped.
        const dashboard = JSON.parse(readFileSync(join(ROOT, 'docs/grafana-dashboard.json'), 'utf8')) as {
          panels: { title: string; targets: { expr: string }[] }[];
        };
        for (const panel of dashboard.panels) {
          for (const target of panel.targets) {
            const expr = target.expr.replaceAll('$service', '.*');
            const r = (await (
              await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`)
            ).json()) as { status: string; error?: string };
            assert.equal(r.status, 'success', `${panel.title}: ${expr}: ${r.error}`);
          }
        }
        const phases = (await (
          await fetch(
            `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent('sum by (phase) (sluice_services)')}`,
          )
        ).json()) as { data: { result: { metric: { phase: string } }[] } };
        assert.deepEqual(
          phases.data.result.map((r) => r.metric.phase),
          ['RolledBack'],
        );
      },
    );
  },
);
