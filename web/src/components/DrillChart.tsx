import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { DrillRecord } from '../api.ts';

const cssVar = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const PALETTE = ['--stable', '--canary', '#8b5cf6', '#0ea5e9'];

/** The timeline entries drawn over the chart: faults set and cleared, instance faults, the contract's rollback. */
export const MARKED = new Set([
  'drill.faultsSet',
  'drill.faultsCleared',
  'drill.instanceFault',
  'drill.instanceAnswering',
  'drill.stopped',
  'rollback.started',
  'rollback.trafficReverted',
]);
const markColour = (type: string) =>
  type === 'rollback.started' || type === 'drill.faultsSet' || type === 'drill.instanceFault' ? '--bad' : '--muted';

type Traffic = NonNullable<DrillRecord['traffic']>;

function columns(t: Traffic): uPlot.AlignedData {
  const keys = Object.keys(t.byKey);
  return [
    t.at.map((a) => a / 1000),
    ...keys.flatMap((k) => [t.byKey[k]!.requests, t.byKey[k]!.errors]),
  ] as unknown as uPlot.AlignedData;
}

/** Requests and errors per revision each second of the run, with the run's faults and events drawn over them. */
export function DrillChart({ record }: { record: DrillRecord }) {
  const box = useRef<HTMLDivElement>(null);
  const traffic = record.traffic;
  useEffect(() => {
    const el = box.current;
    if (el === null || traffic === null || traffic.at.length === 0) return;
    const marks = record.timeline.filter((e) => MARKED.has(e.type));
    const grid = { stroke: cssVar('--grid'), width: 1 };
    const axis = { stroke: cssVar('--muted'), grid, ticks: grid };
    const series: uPlot.Series[] = [{}];
    Object.keys(traffic.byKey).forEach((key, i) => {
      const raw = PALETTE[i % PALETTE.length]!;
      const colour = raw.startsWith('--') ? cssVar(raw) : raw;
      series.push({ label: `revision ${key} requests/s`, stroke: colour, width: 2 });
      series.push({ label: `revision ${key} errors/s`, stroke: cssVar('--bad'), width: 1.5, dash: [4, 3] });
    });
    const u = new uPlot(
      {
        width: el.clientWidth || 600,
        height: 220,
        scales: { x: { time: true } },
        axes: [axis, axis],
        series,
        hooks: {
          draw: [
            (p) => {
              const ctx = p.ctx;
              ctx.save();
              for (const m of marks) {
                const x = p.valToPos(m.at / 1000, 'x', true);
                if (x < p.bbox.left || x > p.bbox.left + p.bbox.width) continue;
                ctx.strokeStyle = cssVar(markColour(m.type));
                ctx.lineWidth = 1.5 * devicePixelRatio;
                ctx.setLineDash([5 * devicePixelRatio, 3 * devicePixelRatio]);
                ctx.beginPath();
                ctx.moveTo(x, p.bbox.top);
                ctx.lineTo(x, p.bbox.top + p.bbox.height);
                ctx.stroke();
              }
              ctx.restore();
            },
          ],
        },
      },
      columns(traffic),
      el,
    );
    const ro = new ResizeObserver(() => u.setSize({ width: el.clientWidth, height: 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
    };
  }, [record, traffic]);
  if (traffic === null || traffic.at.length === 0)
    return (
      <p className="muted" data-testid="drill-chart-empty">
        {record.status === 'running'
          ? 'Traffic is drawn once the run has ended.'
          : 'No traffic was recorded for this run.'}
      </p>
    );
  const marked = record.timeline.filter((e) => MARKED.has(e.type)).length;
  return (
    <figure className="chart" data-testid="drill-chart">
      <figcaption>
        <strong>Requests and errors per revision</strong>{' '}
        <span className="muted small">
          · {traffic.at.length} s sampled · {marked} fault and rollback marks (dashed lines)
        </span>
      </figcaption>
      <div
        ref={box}
        className="plot"
        role="img"
        aria-label="requests and errors per second per revision during the drill, with its faults and rollback marked"
      />
    </figure>
  );
}
