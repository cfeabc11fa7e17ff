import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { request, type FlagVariantSeries } from '../api.ts';
import { useLive } from '../live.ts';

const cssVar = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const PALETTE = ['--canary', '#8b5cf6', '#0ea5e9', '#f59e0b'];
const colour = (variant: string, offVariant: string, i: number) => {
  const c = variant === offVariant ? '--stable' : PALETTE[i % PALETTE.length]!;
  return c.startsWith('--') ? cssVar(c) : c;
};
const rate = (errors: number, requests: number) => (requests === 0 ? null : (100 * errors) / requests);

function VariantsPlot({ s }: { s: FlagVariantSeries }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current!;
    const grid = { stroke: cssVar('--grid'), width: 1 };
    const axis = { stroke: cssVar('--muted'), grid, ticks: grid };
    const series: uPlot.Series[] = [{}];
    const data: (number | null)[][] = [s.at.map((a) => a / 1000)];
    s.variants.forEach((v, i) => {
      const stroke = colour(v.variant, s.offVariant, i);
      series.push({ label: `${v.variant} requests`, stroke, width: 1.5, scale: 'n' });
      data.push(v.requests);
      series.push({
        label: `${v.variant} error rate`,
        stroke,
        width: 2,
        dash: [5, 3],
        scale: '%',
        value: (_u, x) => (x === null ? '—' : `${Math.round(x * 100) / 100}%`),
      });
      data.push(v.requests.map((n, j) => rate(v.errors[j]!, n)));
      const fill = cssVar('--bad');
      series.push({
        label: `${v.variant} Fail`,
        stroke: fill,
        scale: '%',
        paths: () => null,
        points: { show: true, size: 8, fill, stroke: fill },
      });
      data.push(v.outcome.map((o, j) => (o === 'Fail' ? (rate(v.errors[j]!, v.requests[j]!) ?? 0) : null)));
    });
    const u = new uPlot(
      {
        width: el.clientWidth || 600,
        height: 200,
        scales: { x: { time: true }, '%': { range: (_u, _lo, hi) => [0, Math.max(hi ?? 1, 1) * 1.1] } },
        axes: [
          axis,
          { ...axis, scale: 'n' },
          { ...axis, scale: '%', side: 1, grid: { show: false }, values: (_u, vals) => vals.map((x) => `${x}%`) },
        ],
        series,
      },
      data as unknown as uPlot.AlignedData,
      el,
    );
    const ro = new ResizeObserver(() => u.setSize({ width: el.clientWidth, height: 200 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
    };
  }, [s]);
  return <div ref={box} className="plot" role="img" aria-label="requests and error rate per variant over time" />;
}

/**
 * A flag under a rollback contract: each variant's requests and error rate per guard sample, as
 * the built-in proxy counted them or the application reported them (the contract's evidence),
 * with the contract's verdicts (Fail marked); nothing for a flag the guard does not judge.
 * Reloaded each sample interval.
 */
export function FlagVariantsChart({ name, evidence }: { name: string; evidence: 'proxy' | 'sdk' }) {
  const loaded = useLive(
    (signal) =>
      request<{ series: FlagVariantSeries | null }>(
        'GET',
        `/api/flags/${encodeURIComponent(name)}/variants`,
        undefined,
        signal,
      ),
    (e) => e.service === '_flags',
    [name],
    300,
  );
  const s = loaded.data?.series ?? null;
  const { reload } = loaded;
  const every = s?.sampleMs ?? 10_000;
  useEffect(() => {
    const timer = setInterval(reload, every);
    return () => clearInterval(timer);
  }, [every, name]);
  if (s === null || s.variants.length === 0) return null;
  const last = s.at.length - 1;
  return (
    <figure className="chart" data-testid={`variants-${name}`}>
      <figcaption>
        <strong>
          Per variant ({s.environment}, against {s.offVariant})
        </strong>
        {s.variants
          .filter((v) => v.variant !== s.offVariant)
          .map((v) => {
            const outcome = v.outcome[last] ?? v.outcome.findLast((o) => o !== null) ?? null;
            return (
              outcome && (
                <span
                  key={v.variant}
                  className={`badge verdict verdict-${outcome}`}
                  title={v.reason.findLast((r) => r !== null) ?? ''}
                >
                  {v.variant}: {outcome}
                </span>
              )
            );
          })}
        <span className="muted small">
          · {evidence === 'sdk' ? 'as the application reported (OpenFeature)' : 'as the built-in proxy counted'} ·{' '}
          {s.at.length} samples, one per {Math.round(s.sampleMs / 1000)} s at most
        </span>
      </figcaption>
      <VariantsPlot s={s} />
    </figure>
  );
}
