/** A small inline SVG chart (no script, no external style) for reports that must render anywhere: e-mail, chat, a browser. */

export interface ChartPoint {
  label: string;
  value: number | null;
}

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const W = 560;
const H = 180;
const PAD = { left: 48, right: 12, top: 28, bottom: 28 };

/** Bars (counts) or a line (rates, durations) over the points, with the title, the y-axis maximum and the first and last labels. */
export function svgChart(
  title: string,
  points: readonly ChartPoint[],
  o: { kind: 'bar' | 'line'; format: (v: number) => string; id: string },
): string {
  const values = points.map((p) => p.value).filter((v): v is number => v !== null);
  const max = Math.max(0, ...values) || 1;
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const step = points.length === 0 ? iw : iw / points.length;
  const x = (i: number) => PAD.left + i * step + step / 2;
  const y = (v: number) => PAD.top + ih - (v / max) * ih;
  const marks: string[] = [];
  if (o.kind === 'bar') {
    points.forEach((p, i) => {
      if (p.value === null || p.value === 0) return;
      const bw = Math.max(1, step * 0.7);
      marks.push(
        `<rect class="mark" x="${(x(i) - bw / 2).toFixed(1)}" y="${y(p.value).toFixed(1)}" width="${bw.toFixed(1)}" height="${(PAD.top + ih - y(p.value)).toFixed(1)}" fill="#3b82f6"><title>${escapeHtml(`${p.label}: ${o.format(p.value)}`)}</title></rect>`,
      );
    });
  } else {
    const segments: string[][] = [[]];
    points.forEach((p, i) => {
      if (p.value === null) {
        segments.push([]);
        return;
      }
      segments.at(-1)!.push(`${x(i).toFixed(1)},${y(p.value).toFixed(1)}`);
      marks.push(
        `<circle class="mark" cx="${x(i).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="2.5" fill="#ef4444"><title>${escapeHtml(`${p.label}: ${o.format(p.value)}`)}</title></circle>`,
      );
    });
    for (const s of segments)
      if (s.length > 1)
        marks.unshift(`<polyline points="${s.join(' ')}" fill="none" stroke="#ef4444" stroke-width="1.5"/>`);
  }
  const first = points[0]?.label ?? '';
  const last = points.at(-1)?.label ?? '';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" id="${escapeHtml(o.id)}" role="img" aria-label="${escapeHtml(title)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<text x="${PAD.left}" y="16" font-size="13" font-weight="bold">${escapeHtml(title)}</text>`,
    `<line x1="${PAD.left}" y1="${PAD.top + ih}" x2="${W - PAD.right}" y2="${PAD.top + ih}" stroke="#999"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${PAD.top + ih}" stroke="#999"/>`,
    `<text x="${PAD.left - 4}" y="${PAD.top + 4}" text-anchor="end">${escapeHtml(o.format(max))}</text>`,
    `<text x="${PAD.left - 4}" y="${PAD.top + ih}" text-anchor="end">0</text>`,
    `<text x="${PAD.left}" y="${H - 8}">${escapeHtml(first)}</text>`,
    `<text x="${W - PAD.right}" y="${H - 8}" text-anchor="end">${escapeHtml(last)}</text>`,
    ...marks,
    values.length === 0
      ? `<text x="${W / 2}" y="${PAD.top + ih / 2}" text-anchor="middle" fill="#999">no data</text>`
      : '',
    '</svg>',
  ].join('\n');
}
