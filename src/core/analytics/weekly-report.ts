import type { FourKeys } from './four-keys.ts';
import { escapeHtml, svgChart, type ChartPoint } from './svg-chart.ts';

export interface WeeklyReportInput {
  /** The week reported (Monday 00:00 UTC to the next). */
  week: FourKeys;
  /** The week before, for the change. */
  previous: FourKeys;
  /** Weekly buckets of the last six months, oldest first (the trend charts). */
  trend: FourKeys[];
  /** The log sequence and chain hash the report was generated from. */
  generatedFrom: { seq: number; hash: string | null };
  generatedAt: number;
}

export interface WeeklyReport {
  title: string;
  markdown: string;
  html: string;
}

const dur = (s: number | null) =>
  s === null
    ? 'n/a'
    : s < 3600
      ? `${(s / 60).toFixed(1)} min`
      : s < 2 * 86_400
        ? `${(s / 3600).toFixed(1)} h`
        : `${(s / 86_400).toFixed(1)} d`;
const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)}%`);
const day = (iso: string) => iso.slice(0, 10);

interface Row {
  key: string;
  now: string;
  before: string;
  tier: string;
  from: string;
}

function rows(w: FourKeys, p: FourKeys): Row[] {
  return [
    {
      key: 'Deployments',
      now: String(w.deployments.count),
      before: String(p.deployments.count),
      tier: '',
      from: `${w.deployments.succeeded} succeeded, ${w.deployments.rolledBack} rolled back`,
    },
    {
      key: 'Deployment frequency',
      now: `${w.deploymentFrequency.perDay.toFixed(2)}/day`,
      before: `${p.deploymentFrequency.perDay.toFixed(2)}/day`,
      tier: w.deploymentFrequency.tier ?? '-',
      from: `${w.deploymentFrequency.counts.deployDays} deploy days`,
    },
    {
      key: 'Lead time (median)',
      now: dur(w.leadTime.medianS),
      before: dur(p.leadTime.medianS),
      tier: w.leadTime.tier ?? '-',
      from: `${w.leadTime.counts.commits} commits, p90 ${dur(w.leadTime.p90S)}`,
    },
    {
      key: 'Change failure rate',
      now: pct(w.changeFailureRate.value),
      before: pct(p.changeFailureRate.value),
      tier: w.changeFailureRate.tier ?? '-',
      from: `${w.changeFailureRate.counts.failed}/${w.changeFailureRate.counts.deployments} failed`,
    },
    {
      key: 'Time to restore (median)',
      now: dur(w.timeToRestore.medianS),
      before: dur(p.timeToRestore.medianS),
      tier: w.timeToRestore.tier ?? '-',
      from: `${w.timeToRestore.counts.rollbacks} rollbacks, ${w.timeToRestore.counts.incidents} incidents, p90 ${dur(w.timeToRestore.p90S)}`,
    },
  ];
}

/** The trend charts: one per key, a point per week. */
export function trendCharts(trend: readonly FourKeys[]): { id: string; title: string; svg: string }[] {
  const pts = (f: (k: FourKeys) => number | null): ChartPoint[] =>
    trend.map((k) => ({ label: day(k.window.since), value: f(k) }));
  const hours = (v: number) => `${(v / 3600).toFixed(1)} h`;
  return [
    {
      id: 'chart-deployments',
      title: 'Deployments per week',
      svg: svgChart(
        'Deployments per week',
        pts((k) => k.deployments.count),
        { kind: 'bar', format: (v) => String(Math.round(v)), id: 'chart-deployments' },
      ),
    },
    {
      id: 'chart-lead-time',
      title: 'Lead time, median',
      svg: svgChart(
        'Lead time, median (hours)',
        pts((k) => k.leadTime.medianS),
        { kind: 'line', format: hours, id: 'chart-lead-time' },
      ),
    },
    {
      id: 'chart-change-failure-rate',
      title: 'Change failure rate',
      svg: svgChart(
        'Change failure rate',
        pts((k) => k.changeFailureRate.value),
        { kind: 'line', format: (v) => `${(v * 100).toFixed(0)}%`, id: 'chart-change-failure-rate' },
      ),
    },
    {
      id: 'chart-time-to-restore',
      title: 'Time to restore, median',
      svg: svgChart(
        'Time to restore, median (hours)',
        pts((k) => k.timeToRestore.medianS),
        { kind: 'line', format: hours, id: 'chart-time-to-restore' },
      ),
    },
  ];
}

/** The weekly report in Markdown (tables) and HTML (the same tables and the six-month trend as inline SVG). Pure. */
export function renderWeeklyReport(r: WeeklyReportInput): WeeklyReport {
  const env = r.week.filter.environment;
  const title = `Delivery report, week of ${day(r.week.window.since)} (${env})`;
  const table = rows(r.week, r.previous);
  const origin = `Generated ${new Date(r.generatedAt).toISOString()} from the log at sequence ${r.generatedFrom.seq}${r.generatedFrom.hash === null ? '' : `, chain hash ${r.generatedFrom.hash}`}; tiers ${r.week.tiers.version} (${r.week.tiers.year}).`;
  const charts = trendCharts(r.trend);
  const markdown = [
    `# ${title}`,
    '',
    `${day(r.week.window.since)} → ${day(r.week.window.until)}, all services in ${env}.`,
    '',
    '| Key | This week | Week before | Tier | From |',
    '| --- | --- | --- | --- | --- |',
    ...table.map((x) => `| ${x.key} | ${x.now} | ${x.before} | ${x.tier} | ${x.from} |`),
    '',
    `Progressive: ${r.week.progressive.available ? pct(r.week.progressive.share) : 'not available'} · rehearsed: ${r.week.rehearsed.available ? pct(r.week.rehearsed.share) : 'not available'} · behind flags: ${r.week.behindFlags.available ? pct(r.week.behindFlags.share) : 'not available'}`,
    '',
    `## Six-month trend (weekly)`,
    '',
    '| Week | Deployments | Lead time | Change failure rate | Time to restore |',
    '| --- | --- | --- | --- | --- |',
    ...r.trend.map(
      (k) =>
        `| ${day(k.window.since)} | ${k.deployments.count} | ${dur(k.leadTime.medianS)} | ${pct(k.changeFailureRate.value)} | ${dur(k.timeToRestore.medianS)} |`,
    ),
    '',
    `_${origin}_`,
    '',
  ].join('\n');
  const html = [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>`,
    '<style>body{font-family:sans-serif;max-width:960px;margin:24px auto;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.charts{display:grid;grid-template-columns:1fr;gap:12px}</style>',
    '</head><body>',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>${escapeHtml(day(r.week.window.since))} → ${escapeHtml(day(r.week.window.until))}, all services in ${escapeHtml(env)}.</p>`,
    '<table id="keys"><thead><tr><th>Key</th><th>This week</th><th>Week before</th><th>Tier</th><th>From</th></tr></thead><tbody>',
    ...table.map(
      (x) =>
        `<tr><td>${escapeHtml(x.key)}</td><td>${escapeHtml(x.now)}</td><td>${escapeHtml(x.before)}</td><td>${escapeHtml(x.tier)}</td><td>${escapeHtml(x.from)}</td></tr>`,
    ),
    '</tbody></table>',
    '<h2>Six-month trend (weekly)</h2>',
    '<div class="charts">',
    ...charts.map((c) => c.svg),
    '</div>',
    `<p><em>${escapeHtml(origin)}</em></p>`,
    '</body></html>',
  ].join('\n');
  return { title, markdown, html };
}
