import type uPlot from 'uplot';

/** A change drawn over a chart: a dashed vertical line at `at` (ms) with a short label at its top. */
export interface ChartMark {
  at: number;
  label: string;
  /** The whole change in words (actor, reason), for a tooltip. */
  title?: string;
  bad?: boolean;
}

const cssVar = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/** A uPlot draw hook marking each of `marks()` inside the plotted range (read at each draw, so new marks need only a redraw). */
export function markHook(marks: () => readonly ChartMark[]): (u: uPlot) => void {
  return (u) => {
    const ctx = u.ctx;
    const px = devicePixelRatio;
    ctx.save();
    ctx.font = `${11 * px}px sans-serif`;
    ctx.textBaseline = 'top';
    for (const m of marks()) {
      const x = u.valToPos(m.at / 1000, 'x', true);
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      const colour = cssVar(m.bad ? '--bad' : '--muted');
      ctx.strokeStyle = colour;
      ctx.fillStyle = colour;
      ctx.lineWidth = 1.5 * px;
      ctx.setLineDash([5 * px, 3 * px]);
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
      ctx.fillText(m.label, x + 3 * px, u.bbox.top + 2 * px);
    }
    ctx.restore();
  };
}
