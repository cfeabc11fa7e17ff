import type { ServiceEvent } from './api.ts';

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

/** Revision key → version, to name revisions as people know them. */
export type Versions = Record<string, string>;

/** One line per event for the activity log (null: not worth a line). */
export function describeEvent(e: ServiceEvent, versions: Versions = {}): string | null {
  const weights = (w: Record<string, number>) => Object.entries(w).map(([k, v]) => `${versions[k] ?? `r${k}`} ${v}%`).join(', ');
  switch (e.type) {
    case 'spec.applied': return e.revision ? `applied revision ${e.revision.key} (${e.revision.version})` : 'applied a spec (no template change)';
    case 'release.started': return `release ${e.release.number} started: ${e.release.from?.version ?? 'nothing'} → ${e.release.to.version}`;
    case 'target.starting': return `starting ${e.ref.version}`;
    case 'target.ready': return `revision ${e.key} ready (${e.instances.length} instance${e.instances.length === 1 ? '' : 's'})`;
    case 'target.failed': return `revision ${e.key} failed: ${e.error}`;
    case 'target.crashed': return `instance ${e.instanceId} of revision ${e.key} crashed (${e.signal ?? `exit ${e.exitCode}`})${e.restarted ? ', restarted' : ''}`;
    case 'target.stopping': return `stopping revision ${e.key}`;
    case 'target.stopped': return `revision ${e.key} stopped${e.error ? `: ${e.error}` : ''}`;
    case 'step.started': return `step ${e.index + 1} started`;
    case 'traffic.shifted': return `weights → ${weights(e.weights)} (${e.reason})`;
    case 'traffic.applied': return `router serves ${weights(e.weights)}`;
    case 'analysis.evaluated': return null;
    case 'release.paused': return `paused: ${e.detail}`;
    case 'release.resumed': return 'resumed';
    case 'release.promoted': return e.full ? 'promoted fully' : `promoted from step ${e.fromStep + 1}`;
    case 'release.completing': return 'moving all traffic to the new revision';
    case 'release.succeeded': return `succeeded: ${e.stable.version} is stable`;
    case 'release.failed': return `failed: ${e.error}`;
    case 'rollback.started': return `${e.status === 'Aborted' ? 'aborted' : 'rolling back'}: ${e.log.reason}`;
    case 'rollback.trafficReverted': return 'all traffic back on stable';
    case 'rollback.canaryStopped': return 'canary stopped';
    case 'service.degraded': return `degraded: ${e.reason}`;
    case 'service.recovered': return 'recovered';
    case 'driver.failed': return `${e.driver} driver: ${e.operation} failed: ${e.error}`;
    case 'router.died': return `data plane died: ${e.detail}`;
    case 'router.restarted': return `data plane serves again (${e.downMs} ms down)`;
    case 'router.drifted': return `router table changed behind Sluice's back, re-asserted: ${e.differences.join('; ')}`;
    case 'router.hostsApplied': return `${Object.keys(e.applied).join(', ') || 'no host'} confirmed ${JSON.stringify(e.weights)}${Object.keys(e.unreachable).length > 0 ? `; not confirmed: ${Object.entries(e.unreachable).map(([h, m]) => `${h} (${m})`).join(', ')}` : ''}`;
    case 'service.deleted': return 'deleted';
    // Event types added later still show, by name, until they get their own sentence.
    default: return (e as { type: string }).type;
  }
}
