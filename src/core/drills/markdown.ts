/** The drill record as Markdown: what a post-drill review reads and files. */
import { describeFault } from './fault.ts';
import type { DrillRecord } from './record.ts';
import type { ProbeTally } from './events.ts';

const iso = (at: number | null) => (at === null ? '—' : new Date(at).toISOString());
const ms = (v: number | null) => (v === null ? '—' : `${v} ms`);
const share = (t: ProbeTally) =>
  t.total === 0 ? 'no answers' : `${((t.good / t.total) * 100).toFixed(1)}% (${t.good}/${t.total})`;

export function drillMarkdown(r: DrillRecord): string {
  const lines = [
    `# Drill ${r.drill} #${r.run} — ${r.status}`,
    '',
    `- Service: ${r.service}`,
    `- Run by: ${r.startedBy}, ${iso(r.startedAt)} → ${iso(r.finishedAt)}`,
    `- Time to detect: ${ms(r.timeToDetectMs)}; time to restore: ${ms(r.timeToRestoreMs)}`,
    `- Resilience score: ${r.score === null ? '—' : r.score}`,
    `- Verdict: ${r.status}${r.detail === null ? '' : ` — ${r.detail}`}`,
    `- Signed off: ${r.signOff === null ? 'not yet' : `${r.signOff.by} (${r.signOff.role}), ${iso(r.signOff.at)}: ${r.signOff.comment}`}`,
    '',
    '## Steady state',
    '',
    '| probe | tolerance | before | during | after |',
    '| --- | --- | --- | --- | --- |',
    ...r.gameDay.probes.map((p) => {
      const cell = (phase: 'before' | 'during' | 'after') => {
        const t = r.steadyState[phase]?.find((x) => x.probe === p.name);
        return t === undefined ? '—' : share(t);
      };
      return `| ${p.name} | ${p.tolerance}% | ${cell('before')} | ${cell('during')} | ${cell('after')} |`;
    }),
    '',
    '## Faults',
    '',
    ...(r.faults.length === 0
      ? ['none was hit']
      : r.faults.map(
          (f) =>
            `- ${f.id}: ${describeFault(f)} — ${f.hits} request(s) hit, first ${iso(f.firstHitAt)}, last ${iso(f.lastHitAt)}`,
        )),
    '',
    '## Timeline',
    '',
    ...r.timeline.map((t) => `- ${iso(t.at)} ${t.text}`),
    '',
    '## Action items',
    '',
    ...(r.actionItems.length === 0 ? ['none'] : r.actionItems.map((a) => `- [ ] ${a.text} (${a.owner})`)),
    '',
  ];
  return lines.join('\n');
}
