import { describeEvent, type ServiceEvent, type Versions } from '../../src/views/index.ts';

export type { Versions };

const RATE = new Set(['error_rate']);

/** A metric's value as people read it: rates in %, latency in ms, counts as they are. */
export function metricValue(metric: string, v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (RATE.has(metric)) return `${(v * 100).toFixed(v < 0.001 && v > 0 ? 3 : 2)}%`;
  if (metric.startsWith('latency')) return `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
  if (metric === 'request_rate') return `${v.toFixed(1)}/s`;
  return String(Math.round(v * 100) / 100);
}

/** Chart scale for a metric: rates are drawn in percent. */
export function chartValue(metric: string, v: number | null | undefined): number | null {
  if (v === null || v === undefined || Number.isNaN(v)) return null;
  return RATE.has(metric) ? v * 100 : v;
}

export function unitOf(metric: string): string {
  if (RATE.has(metric)) return '%';
  if (metric.startsWith('latency')) return 'ms';
  return metric === 'request_rate' ? 'req/s' : '';
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function clock(t: string | number | null | undefined): string {
  if (t === null || t === undefined) return '—';
  const d = new Date(t);
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

export function dateTime(t: string | number | null | undefined): string {
  if (t === null || t === undefined) return '—';
  return new Date(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium', hour12: false });
}

/** One line per event for the activity log (null: not worth a line; the charts show the analysis). */
export function activityLine(e: ServiceEvent, versions: Versions = {}): string | null {
  return e.type === 'analysis.evaluated' ? null : describeEvent(e, e.actor, versions);
}
