/**
 * The dashboard's Drills page in a real Chromium against a real server, service, proxy and load:
 * a finished run's timeline over its traffic chart, and the safety lever pressed against a live
 * drill, whose fault then ends in the traffic. A viewer sees the lever disabled.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import type { DrillRecord } from '../src/core/drills/record.ts';
import { startLoad } from './support/load.ts';
import { withoutServer } from './support/servers.ts';
import { deployedServer, ROOT } from './support/sluice.ts';

const drill = (name: string, url: string, fault: string) => `apiVersion: sluice.dev/v1alpha1
kind: GameDay
metadata: { name: ${name} }
spec:
  service: checkout
  hypothesis:
    probes:
      - { name: home, http: { url: "${url}" }, every: 200ms, tolerance: 50% }
  method:
    - fault: ${fault}
  steadyState: { before: 1s, after: 1s }
`;

describe('the Drills page in a real Chromium', { skip: withoutServer('chromium', 'chromium') }, () => {
  test(
    "shows a run's timeline over its traffic, and the safety lever ends a live drill's fault",
    { timeout: 150_000 },
    async (t) => {
      assert.ok(
        existsSync(join(ROOT, 'web/dist/index.html')),
        'the dashboard is not built: run `npm run build:web` (npm ci does it)',
      );
      const { server, listenPort } = await deployedServer(t, { instances: 1 });
      const url = `http://127.0.0.1:${listenPort}/`;
      const load = startLoad({ url, rps: 100, durationMs: 90_000 });
      t.after(() => load.stop());

      const short = await server.api<DrillRecord>('POST', '/api/gamedays/run', {
        spec: drill('short-errors', url, '{ target: stable, errors: 500, percent: 20, for: 3s }'),
        file: 'drill.yaml',
        wait: true,
      });
      assert.equal(short.status, 200, JSON.stringify(short.body));
      assert.ok((short.body.traffic?.at.length ?? 0) >= 3, `traffic samples: ${JSON.stringify(short.body.traffic)}`);

      const browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
      });
      t.after(() => browser.close());
      const context = await browser.newContext();
      await context.addInitScript(
        (token) => localStorage.setItem('sluice.token', token),
        readFileSync(join(server.dataDir, 'admin.token'), 'utf8').trim(),
      );
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(`${server.url}/drills/short-errors/1`);

      // The run: its figures, its timeline, and the chart the timeline is drawn over.
      const timeline = page.getByTestId('drill-timeline');
      await timeline.getByText('injects 1 fault(s)').waitFor({ timeout: 30_000 });
      assert.equal(await page.getByTestId('drill-status').textContent(), 'passed');
      const text = (await timeline.textContent()) ?? '';
      assert.match(text, /step 1's faults removed \(their time ran out\); \d+ request\(s\) hit/);
      assert.equal(
        await page.locator('[data-testid="drill-timeline"] li.marked').count(),
        2,
        'the fault set and cleared are marked on the chart',
      );
      const chart = page.getByTestId('drill-chart');
      await chart.locator('canvas').waitFor({ timeout: 10_000 });
      assert.match((await chart.textContent()) ?? '', /\d+ s sampled · 2 fault and rollback marks/);
      assert.match((await page.getByTestId('drill-runs').textContent()) ?? '', /short-errors\s*1\s*checkout\s*passed/);

      // A live drill: every request to the stable revision fails until the lever is pulled.
      const live = await server.api('POST', '/api/gamedays/run', {
        spec: drill('live-errors', url, '{ target: stable, errors: 500, percent: 100, for: 60s }'),
        file: 'drill.yaml',
      });
      assert.equal(live.status, 202, JSON.stringify(live.body));
      const failing = Date.now() + 15_000;
      while ((await fetch(url).then((r) => r.status)) !== 500) {
        assert.ok(Date.now() < failing, 'the live fault never showed');
        await new Promise((r) => setTimeout(r, 50));
      }
      await page.getByTestId('drill-row-live-errors-1').waitFor({ timeout: 10_000 });
      await page.getByTestId('stop-all').click();
      const dialog = page.getByTestId('confirm-dialog');
      await dialog.waitFor();
      const pulled = performance.timeOrigin + performance.now();
      await dialog.getByTestId('confirm').click();
      const result = page.getByTestId('stop-all-result');
      await result.waitFor({ timeout: 10_000 });
      assert.match((await result.textContent()) ?? '', /stopped 1 drill\(s\); removed 1 fault\(s\) in [\d.]+ ms/);
      // The load generator: no faulted answer to a request sent more than 1 s after the confirm was pressed.
      await new Promise((r) => setTimeout(r, 1500));
      const late = load.samples.filter((s) => s.status === 500 && s.start > pulled + 1000);
      assert.equal(late.length, 0, `${late.length} faulted answers more than 1 s after the lever`);
      assert.equal((await fetch(url)).status, 200);
      await page.getByTestId('drill-row-live-errors-1').getByText('aborted').waitFor({ timeout: 15_000 });
      assert.deepEqual(errors, []);

      // A viewer sees the lever, disabled.
      const viewer = await server.createToken('viewer', 'vic');
      const viewing = await browser.newContext();
      await viewing.addInitScript((token) => localStorage.setItem('sluice.token', token), viewer);
      const viewerPage = await viewing.newPage();
      await viewerPage.goto(`${server.url}/drills`);
      await viewerPage.getByText('the safety lever needs the deployer role').waitFor({ timeout: 15_000 });
      assert.equal(await viewerPage.getByTestId('stop-all').isDisabled(), true);
    },
  );
});
