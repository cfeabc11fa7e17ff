import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { flagExposure } from '../../../src/views/index.ts';
import { request, type FlagExposure, type ServiceEvent } from '../api.ts';
import { clock } from '../format.ts';
import { useLive } from '../live.ts';
import { markHook } from './chart-marks.ts';

const cssVar = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const PALETTE = ['--canary', '--stable', '#8b5cf6', '#0ea5e9', '#f59e0b', '#ec4899'];
const colour = (i: number) => {
  const c = PALETTE[i % PALETTE.length]!;
  return c.startsWith('--') ? cssVar(c) : c;
};

/** The distinct values a rule's exposure took, in order: "25% → 50%". */
function steps(percent: (number | null)[]): string {
  const out: number[] = [];
  for (const p of percent) if (p !== null && out[out.length - 1] !== p) out.push(p);
  return out.map((p) => `${p}%`).join(' → ');
}

function ExposurePlot({ exposure }: { exposure: FlagExposure }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current!;
    const grid = { stroke: cssVar('--grid'), width: 1 };
    const axis = { stroke: cssVar('--muted'), grid, ticks: grid };
    const marks = exposure.changes
      .filter((c) => c.type !== 'flag.applied' || c !== exposure.changes[0])
      .map((c) => ({ at: c.at, label: c.type.replace('flag.', ''), bad: c.type === 'flag.rolledBack' }));
    const u = new uPlot(
      {
        width: el.clientWidth || 600,
        height: 200,
        scales: { x: { time: true }, y: { range: [0, 105] } },
        axes: [axis, { ...axis, values: (_u, vals) => vals.map((v) => `${v}%`) }],
        series: [
          {},
          ...exposure.series.map((s, i) => ({
            label: `${s.environment} · ${s.rule}`,
            stroke: colour(i),
            width: 2,
            paths: uPlot.paths.stepped!({ align: 1 }),
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${v}%`),
          })),
        ],
        hooks: { draw: [markHook(() => marks)] },
      },
      [exposure.at.map((a) => a / 1000), ...exposure.series.map((s) => s.percent)] as unknown as uPlot.AlignedData,
      el,
    );
    const ro = new ResizeObserver(() => u.setSize({ width: el.clientWidth, height: 200 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
    };
  }, [exposure]);
  return <div ref={box} className="plot" role="img" aria-label="each rule's exposure per environment over time" />;
}

/** A flag's exposure per rule and environment over time, as steps, with each change (actor, reason) listed. */
export function FlagExposureChart({ name }: { name: string }) {
  const events = useLive(
    (signal) =>
      request<{ events: ServiceEvent[] }>('GET', `/api/flags/${encodeURIComponent(name)}/events`, undefined, signal),
    (e) => e.service === '_flags',
    [name],
    300,
  );
  const exposure = useMemo(
    () => (events.data === null ? null : flagExposure(name, events.data.events, Date.now())),
    [events.data, name],
  );
  if (events.error) return <p className="error">Could not load the flag's changes: {events.error}</p>;
  if (exposure === null) return <p className="muted">Loading…</p>;
  return (
    <figure className="chart" data-testid={`exposure-${name}`}>
      <figcaption>
        <strong>Exposure over time</strong>
        {exposure.series.map((s) => (
          <span
            key={`${s.environment}/${s.rule}`}
            className="muted small"
            data-testid={`steps-${s.environment}-${s.rule}`}
          >
            · {s.environment} {s.rule}: {steps(s.percent)}
          </span>
        ))}
      </figcaption>
      {exposure.series.length > 0 && <ExposurePlot exposure={exposure} />}
      <details>
        <summary className="small">{exposure.changes.length} changes</summary>
        <ol className="muted small" data-testid={`changes-${name}`}>
          {[...exposure.changes].reverse().map((c) => (
            <li key={c.seq}>
              {clock(c.at)} {c.text}
            </li>
          ))}
        </ol>
      </details>
    </figure>
  );
}
