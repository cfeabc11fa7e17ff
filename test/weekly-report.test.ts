/**
 * The weekly report: sent on its schedule through a real webhook notifier to a real HTTP receiver,
 * once per week, and its HTML rendered in a real Chromium with its four charts drawn.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { Analytics } from '../src/analytics/analytics.ts';
import { SqliteAnalyticsStore } from '../src/analytics/sqlite/sqlite-analytics-store.ts';
import { weeklyReport } from '../src/analytics/weekly-report.ts';
import { WeeklyReportSchedule } from '../src/analytics/weekly-schedule.ts';
import { EventBus } from '../src/engine/event-bus.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { withoutServer } from './support/servers.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 2, 9); // Wednesday 2026-12-02: the last full week is 11-23 → 11-30
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Six months of history: deployments every 3 days, a rollback every 5th, none in the four weeks before the last. */
function history(): string {
  const lines: string[] = [];
  for (let i = 0; i < 60; i++) {
    const at = NOW - 180 * DAY + i * 3 * DAY;
    if (at > NOW - 37 * DAY && at < NOW - 9 * DAY) continue;
    const iso = (ms: number) => new Date(ms).toISOString();
    const sha = `c0ffee${String(i).padStart(4, '0')}`;
    lines.push(JSON.stringify({ type: 'commit', sha, service: 'checkout', committedAt: iso(at - 6 * 3_600_000) }));
    lines.push(
      JSON.stringify({
        type: 'deployment',
        id: `w${i}`,
        service: 'checkout',
        version: `1.${i}.0`,
        startedAt: iso(at - 600_000),
        finishedAt: iso(at),
        result: i % 5 === 0 ? 'rolledback' : 'success',
        ...(i % 5 === 0 && { trafficRevertedAt: iso(at) }),
        commits: [sha],
      }),
    );
  }
  return lines.join('\n');
}

test('the weekly report', { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-weekly-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new SqliteStore(join(dir, 'sluice.db'));
  const history$ = new SqliteAnalyticsStore(join(dir, 'analytics.db'));
  t.after(async () => {
    history$.close();
    await store.close();
  });
  const analytics = new Analytics({ store, analytics: history$, bus: new EventBus(), now: () => NOW });
  const imported = await analytics.importText(history(), 'file', 'test');
  assert.equal(imported.rejected, 0);

  await t.test('on its schedule, through the notifiers that select report.weekly, once per week', async () => {
    const received: { type: string; text: string; event: { week: string; markdown: string } }[] = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => receiver.close(() => r())));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const spec = (events: string[]) => ({
      metadata: { name: 'checkout', labels: {} },
      spec: {
        notifications: [
          {
            driver: 'webhook',
            url,
            format: 'json',
            events,
            timeout: 5000,
            retry: { attempts: 2, initialDelay: 100, maxDelay: 200 },
            queueSize: 10,
            headers: {},
          },
        ],
      },
    });
    const schedule = new WeeklyReportSchedule({ analytics, store, dataDir: dir, now: () => NOW, log: () => undefined });
    t.after(() => schedule.stop());
    await store.putService({
      name: 'checkout',
      spec: spec(['release.started']),
      baseDir: dir,
      file: null,
      revisionKey: '1',
      updatedAt: NOW,
    });
    assert.equal(await schedule.runOnce(), null, 'nobody selects report.weekly: no report');
    await store.putService({
      name: 'checkout',
      spec: spec(['release.started', 'report.weekly']),
      baseDir: dir,
      file: null,
      revisionKey: '1',
      updatedAt: NOW,
    });
    const event = await schedule.runOnce();
    assert.equal(event?.type, 'report.weekly');
    assert.equal(event?.service, '_server');
    const deadline = Date.now() + 15_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(received.length, 1);
    assert.equal(received[0]!.type, 'report.weekly');
    assert.equal(received[0]!.event.week, '2026-11-23T00:00:00.000Z');
    assert.match(received[0]!.text, /^_server: Delivery report, week of 2026-11-23 \(production\)/);
    const week = await analytics.dora({
      since: Date.UTC(2026, 10, 23),
      until: Date.UTC(2026, 10, 30),
      environment: 'production',
    });
    assert.ok(week.deployments.count > 0);
    assert.match(
      received[0]!.event.markdown,
      new RegExp(`\\| Deployments \\| ${week.deployments.count} \\| 0 \\|`),
      'this week, and none the week before',
    );
    assert.equal(await schedule.runOnce(), null, 'the same week is not sent twice');
  });

  await t.test(
    'its HTML in Chromium: four charts, one bar per week with deployments, a gap where there were none',
    { skip: withoutServer('chromium', 'chromium') },
    async () => {
      const report = await weeklyReport(analytics, { now: NOW, environment: 'production' });
      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
      t.after(() => browser.close());
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.setContent(report.html);
      assert.equal(await page.title(), 'Delivery report, week of 2026-11-23 (production)');
      for (const id of ['chart-deployments', 'chart-lead-time', 'chart-change-failure-rate', 'chart-time-to-restore']) {
        const box = await page.locator(`svg#${id}`).boundingBox();
        assert.ok(box !== null && box.width > 500 && box.height > 150, `${id} is drawn: ${JSON.stringify(box)}`);
      }
      const bars = await page.locator('svg#chart-deployments rect.mark').count();
      const weeksWithDeployments = (report.markdown.match(/^\| \d{4}-\d{2}-\d{2} \| [1-9]\d* \|/gm) ?? []).length;
      assert.equal(bars, weeksWithDeployments);
      assert.ok(bars >= 15 && bars < 26, `${bars} bars`);
      // Bars have real heights; the tallest week is the chart's top.
      const heights = await page
        .locator('svg#chart-deployments rect.mark')
        .evaluateAll((els) => els.map((e) => (e as unknown as { getBBox(): { height: number } }).getBBox().height));
      assert.ok(heights.every((h) => h > 0));
      // The change failure rate is a line with points (a gap for the weeks without deployments).
      const points = await page.locator('svg#chart-change-failure-rate circle.mark').count();
      assert.equal(points, weeksWithDeployments, 'a point per week with deployments');
      const lines = await page
        .locator('svg#chart-change-failure-rate polyline')
        .evaluateAll((els) => els.map((e) => (e.getAttribute('points') ?? '').split(' ').length));
      assert.ok(
        lines.length >= 1 && lines.reduce((a, b) => a + b, 0) < points,
        `the line breaks where there is no data: ${JSON.stringify(lines)} of ${points}`,
      );
      assert.deepEqual(errors, []);
    },
  );
});
