import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fourKeysByBucket } from './four-keys.ts';
import type { Deployment } from './types.ts';
import { renderWeeklyReport } from './weekly-report.ts';

const DAY = 86_400_000;
const MON = Date.UTC(2026, 5, 1);

describe('the weekly report', () => {
  it('has the week, the week before, a chart per key and where it was generated from; text is escaped', () => {
    const d = (i: number, result: 'success' | 'rolledback'): Deployment => ({
      id: `d${i}`,
      service: '<svc>',
      environment: 'production',
      team: null,
      version: '1',
      startedAt: MON + i * DAY - 60_000,
      finishedAt: MON + i * DAY,
      result,
      firstTrafficAt: null,
      trafficRevertedAt: result === 'rolledback' ? MON + i * DAY : null,
      revertMs: null,
      commits: [],
      progressive: true,
      rehearsed: null,
      behindFlag: null,
      source: 'import',
    });
    const deployments = [d(1, 'success'), d(8, 'success'), d(9, 'rolledback')];
    const { buckets } = fourKeysByBucket(
      { deployments, commits: [], incidents: [] },
      { since: MON, until: MON + 14 * DAY },
      { environment: 'production' },
      'week',
    );
    const r = renderWeeklyReport({
      week: buckets[1]!,
      previous: buckets[0]!,
      trend: buckets,
      generatedFrom: { seq: 42, hash: 'ab'.repeat(32) },
      generatedAt: MON + 14 * DAY,
    });
    assert.equal(r.title, 'Delivery report, week of 2026-06-08 (production)');
    assert.match(r.markdown, /\| Deployments \| 2 \| 1 \|/);
    assert.match(r.markdown, /\| Change failure rate \| 50\.0% \| 0\.0% \| low \| 1\/2 failed \|/);
    assert.match(r.markdown, /sequence 42, chain hash abab/);
    for (const id of ['chart-deployments', 'chart-lead-time', 'chart-change-failure-rate', 'chart-time-to-restore'])
      assert.match(r.html, new RegExp(`<svg [^>]*id="${id}"`));
    assert.equal((r.html.match(/<rect class="mark"/g) ?? []).length, 2, 'one bar per week with deployments');
    assert.ok(!r.html.includes('<script'));
  });
});
