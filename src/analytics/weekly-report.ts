import { bucketStart, DAY_MS } from '../core/analytics/buckets.ts';
import { renderWeeklyReport, type WeeklyReport } from '../core/analytics/weekly-report.ts';
import type { Analytics } from './analytics.ts';

export const TREND_WEEKS = 26;

/**
 * The weekly report of the last full week (Monday to Monday, UTC) before `now`: the four keys, the
 * week before, and the six-month weekly trend, read in one query.
 */
export async function weeklyReport(
  analytics: Analytics,
  o: { now: number; environment: string },
): Promise<
  WeeklyReport & { week: { since: string; until: string }; generatedFrom: { seq: number; hash: string | null } }
> {
  const until = bucketStart(o.now, 'week');
  const answer = await analytics.dora({
    since: until - TREND_WEEKS * 7 * DAY_MS,
    until,
    environment: o.environment,
    bucket: 'week',
  });
  const trend = answer.buckets ?? [];
  const generatedFrom = await analytics.logHead();
  const report = renderWeeklyReport({
    week: trend.at(-1)!,
    previous: trend.at(-2)!,
    trend,
    generatedFrom,
    generatedAt: o.now,
  });
  return { ...report, week: trend.at(-1)!.window, generatedFrom };
}
