import { describeBound, formatFigure } from '../core/analysis/judge.ts';
import type { ReleaseView, ServiceStatus, VerdictView } from '../views/index.ts';

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

function since(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 120 ? `${s}s` : `${Math.round(s / 60)}m`;
}

const figure = (metric: VerdictView['metric'], v: number | null): string =>
  v === null ? '-' : formatFigure(metric, v);

function verdictLine(v: VerdictView): string {
  const bound = v.outcome === 'Inconclusive' ? null : describeBound(v);
  const measured = `canary ${figure(v.metric, v.canary)}  baseline ${figure(v.metric, v.baseline)}`;
  // A Pass or Fail with evidence shows its bound against what the rule allows, never a bare threshold line.
  const figures =
    v.outcome === 'Inconclusive'
      ? v.reason
      : bound !== null
        ? `${measured}  ${bound}  (${v.canarySamples}/${v.baselineSamples} samples)`
        : `${measured}  threshold ${figure(v.metric, v.threshold)}  (${v.canarySamples}/${v.baselineSamples} samples)`;
  return `  ${pad(v.rule, 18)} ${pad(v.outcome, 13)} ${figures}`;
}

export function formatStatus(s: ServiceStatus): string {
  const lines: string[] = [];
  const versions = s.canaryVersion
    ? `stable ${s.stableVersion ?? '-'}  canary ${s.canaryVersion}`
    : `stable ${s.stableVersion ?? '-'}`;
  lines.push(`${s.service}  ${s.phase}  ${versions}`);
  const traffic = Object.entries(s.weights)
    .map(([v, w]) => `${v} ${Math.round(w * 100) / 100}%`)
    .join('  ');
  lines.push(`traffic  ${traffic || '(none)'}`);
  if (s.step)
    lines.push(
      `step     ${Math.min(s.step.index + 1, s.step.total)}/${s.step.total} ${s.step.current ?? 'all steps done, waiting for passing verdicts'} (for ${since(s.step.startedAt)})`,
    );
  if (s.release?.pause) lines.push(`paused   ${s.release.pause.detail}`);
  if (s.degraded) lines.push(`degraded ${s.degraded}`);
  for (const p of s.problems ?? []) lines.push(`problem  ${p.driver} (${p.operation}, since ${p.since}): ${p.error}`);
  if (s.waiting)
    lines.push(
      `waiting  ${s.waiting.version} waits for its release window: ${s.waiting.reason}${s.waiting.until ? ` (until ${s.waiting.until})` : ''}`,
    );
  if (s.verdicts.length > 0) {
    lines.push('rules');
    for (const v of s.verdicts) lines.push(verdictLine(v));
  }
  const rb = s.lastRollback;
  if (rb) {
    lines.push(`last rollback (${rb.release}): ${rb.trigger} — ${rb.reason}`);
    lines.push(
      `  detected ${rb.detectedAt}  traffic reverted ${rb.trafficRevertedAt ?? '-'}  canary stopped ${rb.canaryStoppedAt ?? '-'}  revert ${rb.revertMs ?? '-'}ms`,
    );
  }
  return lines.join('\n');
}

export function formatList(services: ServiceStatus[]): string {
  if (services.length === 0) return 'no services yet: sluice apply -f FILE';
  const rows = services.map((s) => [
    s.service,
    s.phase,
    s.stableVersion ?? '-',
    s.canaryVersion ?? '-',
    Object.entries(s.weights)
      .map(([v, w]) => `${v}:${Math.round(w)}%`)
      .join(' '),
  ]);
  const head = ['SERVICE', 'PHASE', 'STABLE', 'CANARY', 'TRAFFIC'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((c, i) => pad(c, widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatHistory(releases: ReleaseView[]): string {
  if (releases.length === 0) return 'no releases yet';
  const lines: string[] = [];
  for (const r of releases) {
    const took = r.durationMs === null ? 'running' : `${Math.round(r.durationMs / 1000)}s`;
    lines.push(
      `#${r.number}  ${pad(r.status, 10)} ${r.fromVersion ?? '(none)'} → ${r.toVersion}  ${r.kind}  by ${r.startedBy}  ${r.startedAt}  ${took}`,
    );
    if (r.rollback) {
      const rb = r.rollback;
      lines.push(`     rollback: ${rb.trigger} — ${rb.reason}`);
      lines.push(
        `     detected ${rb.detectedAt} → traffic reverted ${rb.trafficRevertedAt ?? '-'} (${rb.revertMs ?? '-'}ms) → canary stopped ${rb.canaryStoppedAt ?? '-'}`,
      );
    }
    if (r.error) lines.push(`     error: ${r.error}`);
  }
  return lines.join('\n');
}
