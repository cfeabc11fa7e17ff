import { useEffect, useRef, useSyncExternalStore } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { describeBound } from '../../../src/views/index.ts';
import type { ContractRule, RuleSeries, VerdictView } from '../api.ts';
import { chartValue, metricValue, unitOf } from '../format.ts';
import { markHook, type ChartMark } from './chart-marks.ts';

const dark = matchMedia('(prefers-color-scheme: dark)');
const useDark = () =>
  useSyncExternalStore(
    (w) => (dark.addEventListener('change', w), () => dark.removeEventListener('change', w)),
    () => dark.matches,
  );

const cssVar = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/** The rule's failure condition in words, e.g. "fails if canary > baseline + 2.00%". */
export function describeRule(rule: ContractRule | undefined, metric: string): string {
  if (rule === undefined) return '';
  if (rule.failIf === undefined)
    return rule.metric === 'burn_rate' ? `fails on error-budget burn (objective ${rule.objective ?? '?'})` : '';
  const c = rule.failIf;
  const ref = c.reference === 'baseline' ? 'baseline' : metricValue(metric, c.reference);
  const times = c.times !== undefined && c.times !== 1 ? ` × ${c.times}` : '';
  const by = c.by !== undefined && c.by !== 0 ? ` ${c.op === 'above' ? '+' : '−'} ${metricValue(metric, c.by)}` : '';
  return `fails if canary ${c.op === 'above' ? '>' : '<'} ${ref}${times}${by}`;
}

/** uPlot wants columns of numbers: x in seconds, then canary, baseline, threshold and the verdict marks. */
function columns(s: RuleSeries): uPlot.AlignedData {
  const n = s.at.length;
  const x = new Float64Array(n);
  const canary: (number | null)[] = new Array(n);
  const baseline: (number | null)[] = new Array(n);
  const threshold: (number | null)[] = new Array(n);
  const fail: (number | null)[] = new Array(n);
  const unsure: (number | null)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = s.at[i]! / 1000;
    canary[i] = chartValue(s.metric, s.canary[i]);
    baseline[i] = chartValue(s.metric, s.baseline[i]);
    threshold[i] = chartValue(s.metric, s.threshold[i]);
    fail[i] = s.outcome[i] === 'Fail' ? (canary[i] ?? 0) : null;
    unsure[i] = s.outcome[i] === 'Inconclusive' ? (canary[i] ?? 0) : null;
  }
  return [x, canary, baseline, threshold, fail, unsure] as unknown as uPlot.AlignedData;
}

function options(s: RuleSeries, width: number, isDark: boolean, changes: () => readonly ChartMark[]): uPlot.Options {
  const unit = unitOf(s.metric);
  const fmt = (_u: uPlot, v: number | null) =>
    v === null ? '—' : `${Math.round(v * 1000) / 1000}${unit === '%' ? '%' : unit ? ` ${unit}` : ''}`;
  const grid = { stroke: cssVar('--grid'), width: 1 };
  const axis = { stroke: cssVar('--muted'), grid, ticks: grid };
  const marks = (fill: string): uPlot.Series => ({
    stroke: fill,
    fill,
    paths: () => null,
    points: { show: true, size: 7, fill, stroke: fill },
    value: fmt,
  });
  return {
    width,
    height: 200,
    pxAlign: 0,
    cursor: { drag: { x: true, y: false } },
    legend: { live: true },
    hooks: { draw: [markHook(changes)] },
    scales: { x: { time: true }, y: { range: (_u, lo, hi) => [Math.min(0, lo ?? 0), Math.max(hi ?? 1, 1e-9) * 1.1] } },
    axes: [axis, { ...axis, values: (_u, vals) => vals.map((v) => `${v}${unit === '%' ? '%' : ''}`) }],
    series: [
      {},
      { label: 'canary', stroke: cssVar('--canary'), width: 2, spanGaps: false, value: fmt },
      { label: 'baseline', stroke: cssVar('--stable'), width: 1.5, value: fmt },
      { label: 'threshold', stroke: cssVar('--bad'), width: 1, dash: [6, 4], value: fmt },
      { label: 'Fail', ...marks(cssVar('--bad')) },
      { label: 'Inconclusive', ...marks(isDark ? '#9ca3af' : '#6b7280') },
    ],
  };
}

/** One rule over the release: canary against baseline, the threshold it was compared with, and each verdict marked. */
/** What the latest verdict rests on: its confidence bound against the allowance, or (Inconclusive) what it still needs. */
function evidenceOf(v: VerdictView): string {
  return (v.outcome === 'Inconclusive' ? null : describeBound(v)) ?? v.reason;
}

export function RuleChart({
  series,
  version,
  rule,
  verdict,
  marks = [],
}: {
  series: RuleSeries;
  version: number;
  rule: ContractRule | undefined;
  verdict?: VerdictView | undefined;
  /** Changes drawn over the chart as dashed lines (flag changes). */
  marks?: readonly ChartMark[];
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const isDark = useDark();
  const marksRef = useRef(marks);
  marksRef.current = marks;

  useEffect(() => {
    const el = box.current!;
    const u = new uPlot(
      options(series, el.clientWidth || 600, isDark, () => marksRef.current),
      columns(series),
      el,
    );
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: el.clientWidth, height: 200 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // A new series object (another release, a reload) or colour scheme gets a new chart; appends only redraw.
  }, [series, isDark]);

  useEffect(() => {
    plot.current?.setData(columns(series));
  }, [series, version]);

  useEffect(() => {
    plot.current?.redraw(false);
  }, [marks]);

  const first = series.at[0];
  const shownMarks =
    first === undefined ? [] : marks.filter((m) => m.at >= first && m.at <= (series.at.at(-1) ?? first));

  const last = series.at.length - 1;
  const outcome = series.outcome[last];
  return (
    <figure className="chart" data-testid={`chart-${series.rule}`}>
      <figcaption>
        <strong>{series.rule}</strong> <span className="muted">{describeRule(rule, series.metric)}</span>
        {outcome && (
          <span className={`badge verdict verdict-${outcome}`}>
            {outcome}: canary {metricValue(series.metric, series.canary[last])}, baseline{' '}
            {metricValue(series.metric, series.baseline[last])}
          </span>
        )}
        <span className="muted small">
          {' '}
          · {series.total} verdicts{series.total > series.at.length ? `, ${series.at.length} drawn` : ''}
        </span>
        {shownMarks.length > 0 && (
          <span
            className="muted small"
            data-testid={`marks-${series.rule}`}
            title={shownMarks.map((m) => m.title ?? m.label).join('\n')}
          >
            {' '}
            · {shownMarks.length} flag {shownMarks.length === 1 ? 'change' : 'changes'} marked:{' '}
            {shownMarks.map((m) => m.label).join(', ')}
          </span>
        )}
        {verdict && (
          <span className="evidence small" data-testid={`evidence-${series.rule}`}>
            {evidenceOf(verdict)}
          </span>
        )}
      </figcaption>
      <div
        ref={box}
        className="plot"
        role="img"
        aria-label={`${series.rule}: canary against baseline over the release`}
      />
    </figure>
  );
}
