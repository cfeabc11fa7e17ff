import { readFileSync } from 'node:fs';
import { drillMarkdown } from '../../core/drills/markdown.ts';
import type { DrillRecord } from '../../core/drills/record.ts';
import type { DrillRunRow, ScheduledDrill } from '../../views/index.ts';
import { type CommandDef, UsageError } from '../command.ts';

interface RehearsalView {
  service: string;
  environment: string;
  version: string;
  ranIn: string;
  ok: boolean;
  at: number;
  detail: string;
  retried?: boolean;
}

const ms = (v: number | null) => (v === null ? '-' : `${v}ms`);

function columns(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The scheduled drills with their next run (none: nothing printed). */
function scheduleTable(schedules: ScheduledDrill[]): string {
  if (schedules.length === 0) return '';
  const rows = schedules.map((s) => [
    s.drill,
    s.service,
    s.nextRunAt === null ? 'none' : new Date(s.nextRunAt).toISOString().slice(0, 16).replace('T', ' ') + 'Z',
    `${Math.round(s.remindMs / 60_000)}m before`,
    s.owners.join(',') || '-',
    `${s.rrule} (${s.timeZone})`,
  ]);
  return `\n\n${columns(['SCHEDULED', 'SERVICE', 'NEXT RUN', 'REMIND', 'OWNERS', 'RULE'], rows)}`;
}

function table(runs: DrillRunRow[]): string {
  if (runs.length === 0) return 'no drills yet (sluice gameday run -f DRILL.yaml)';
  const rows = runs.map((r) => [
    r.drill,
    String(r.run),
    r.service,
    r.status,
    new Date(r.startedAt).toISOString().slice(0, 16),
    r.startedBy,
    ms(r.timeToDetectMs),
    ms(r.timeToRestoreMs),
    r.score === null ? '-' : String(r.score),
    r.signedOffBy ?? '-',
  ]);
  return columns(
    ['DRILL', 'RUN', 'SERVICE', 'STATUS', 'STARTED', 'BY', 'DETECT', 'RESTORE', 'SCORE', 'SIGNED OFF'],
    rows,
  );
}

function summary(r: DrillRecord): string {
  return [
    `drill ${r.drill} #${r.run} on ${r.service}: ${r.status}${r.detail === null ? '' : ` — ${r.detail}`}`,
    `time to detect ${ms(r.timeToDetectMs)} · time to restore ${ms(r.timeToRestoreMs)} · resilience score ${r.score ?? '-'}`,
    ...r.timeline.map((t) => `  ${new Date(t.at).toISOString().slice(11, 23)}  ${t.text}`),
  ].join('\n');
}

/** `text=owner` → an action item. */
function actionItem(text: string): { text: string; owner: string } {
  const i = text.lastIndexOf('=');
  if (i <= 0 || i === text.length - 1)
    throw new UsageError(`--action "${text}": write the item and its owner as "TEXT=OWNER"`);
  return { text: text.slice(0, i).trim(), owner: text.slice(i + 1).trim() };
}

export const gamedayCommand: CommandDef = {
  name: 'gameday',
  summary:
    'drills: run -f DRILL.yaml [--wait] · schedule -f DRILL.yaml · unschedule NAME · stop --all (the safety lever) · list · show NAME [--run N] · signoff NAME --run N --comment · rehearse SERVICE --to ENV --version V · rehearsals',
  usage:
    'sluice gameday run -f DRILL.yaml [--wait] | gameday schedule -f DRILL.yaml | gameday unschedule NAME | gameday stop --all | gameday list | gameday show NAME [--run N] [-o json|md] | gameday signoff NAME --run N --comment "..." [--action "TEXT=OWNER"]... | gameday rehearse SERVICE --to ENV --version V | gameday rehearsals',
  options: {
    file: { type: 'string', short: 'f' },
    wait: { type: 'boolean' },
    all: { type: 'boolean' },
    run: { type: 'string' },
    comment: { type: 'string' },
    action: { type: 'string', multiple: true },
    to: { type: 'string' },
    version: { type: 'string' },
  },
  args: ['action', 'name?'],
  outputs: ['md'],
  async run({ positionals, values, client, out, json, output }) {
    const [action, name] = positionals;
    const c = client();
    const runNumber = (): number | undefined => {
      if (values.run === undefined) return undefined;
      const n = Number(values.run);
      if (!Number.isInteger(n) || n < 1)
        throw new UsageError(`--run "${String(values.run)}" is not a run number (1, 2, …; see sluice gameday list)`);
      return n;
    };
    const drillFile = (): { spec: string; file: string } => {
      const file = values.file as string | undefined;
      if (file === undefined) throw new UsageError('give the drill with -f DRILL.yaml');
      try {
        return { spec: readFileSync(file, 'utf8'), file };
      } catch (err) {
        throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    };
    switch (action) {
      case 'schedule': {
        const s = await c.post<ScheduledDrill>('/api/gamedays/schedules', drillFile());
        out(
          json
            ? JSON.stringify(s, null, 2)
            : `drill ${s.drill} scheduled on ${s.service}: next run ${s.nextRunAt === null ? 'none' : new Date(s.nextRunAt).toISOString()}, owners reminded ${Math.round(s.remindMs / 60_000)} min before`,
        );
        return 0;
      }
      case 'unschedule': {
        if (name === undefined) throw new UsageError('say which drill: sluice gameday unschedule NAME');
        await c.delete(`/api/gamedays/schedules/${encodeURIComponent(name)}`);
        out(`drill ${name} unscheduled`);
        return 0;
      }
      case 'run': {
        const { spec, file } = drillFile();
        const started = await c.post<{ drill: string; run: number; service: string; status: 'running' }>(
          '/api/gamedays/run',
          { spec, file, wait: false },
        );
        if (values.wait !== true) {
          out(
            json
              ? JSON.stringify(started, null, 2)
              : `drill ${started.drill} #${started.run} running on ${started.service}; follow it with sluice gameday show ${started.drill} --run ${started.run}`,
          );
          return 0;
        }
        // --wait: the record once the drill has ended (a drill may run longer than one HTTP call waits).
        let r = await c.get<DrillRecord>(`/api/gamedays/${encodeURIComponent(started.drill)}?run=${started.run}`);
        while (r.status === 'running') {
          await new Promise((resolve) => setTimeout(resolve, 500));
          r = await c.get<DrillRecord>(`/api/gamedays/${encodeURIComponent(started.drill)}?run=${started.run}`);
        }
        out(json ? JSON.stringify(r, null, 2) : output === 'md' ? drillMarkdown(r) : summary(r));
        return r.status === 'passed' ? 0 : 1;
      }
      case 'stop': {
        if (values.all !== true)
          throw new UsageError('the safety lever stops every drill and removes every fault: sluice gameday stop --all');
        const r = await c.post<{ stopped: string[]; removed: number; ms: number }>('/api/gamedays/stop', { all: true });
        out(
          json
            ? JSON.stringify(r, null, 2)
            : `stopped ${r.stopped.length} drill(s); removed ${r.removed} fault(s) in ${r.ms} ms`,
        );
        return 0;
      }
      case 'list': {
        const { runs, schedules } = await c.get<{ runs: DrillRunRow[]; schedules: ScheduledDrill[] }>('/api/gamedays');
        out(json ? JSON.stringify({ runs, schedules }, null, 2) : table(runs) + scheduleTable(schedules));
        return 0;
      }
      case 'show': {
        if (name === undefined) throw new UsageError('say which drill: sluice gameday show NAME [--run N]');
        const run = runNumber();
        const r = await c.get<DrillRecord>(
          `/api/gamedays/${encodeURIComponent(name)}${run === undefined ? '' : `?run=${run}`}`,
        );
        out(json ? JSON.stringify(r, null, 2) : output === 'md' ? drillMarkdown(r) : summary(r));
        return 0;
      }
      case 'signoff': {
        if (name === undefined)
          throw new UsageError('say which drill: sluice gameday signoff NAME --run N --comment "..."');
        const run = runNumber();
        if (run === undefined) throw new UsageError('say which run: --run N (see sluice gameday list)');
        if (typeof values.comment !== 'string' || values.comment.trim() === '')
          throw new UsageError('say whether the drill met its objectives: --comment "..."');
        const actionItems = ((values.action as string[] | undefined) ?? []).map(actionItem);
        const r = await c.post<DrillRecord>(`/api/gamedays/${encodeURIComponent(name)}/signoff`, {
          run,
          comment: values.comment,
          actionItems,
        });
        out(json ? JSON.stringify(r, null, 2) : `drill ${r.drill} #${r.run} signed off by ${r.signOff?.by ?? '?'}`);
        return 0;
      }
      case 'rehearse': {
        if (name === undefined || values.to === undefined || values.version === undefined)
          throw new UsageError('say what to rehearse: sluice gameday rehearse SERVICE --to ENVIRONMENT --version V');
        // The rehearsal waits for the revert (at most maxTimeToRevert), then for the contract's window before releasing again.
        const r = await c.post<RehearsalView>(
          '/api/rehearsals',
          { service: name, to: values.to, version: values.version },
          15 * 60_000,
        );
        out(
          json
            ? JSON.stringify(r, null, 2)
            : `rehearsal of ${r.version} for ${r.environment} in ${r.ranIn}: ${r.ok ? 'passed' : 'FAILED'} — ${r.detail}${r.retried ? `; ${r.version} is released again in ${r.ranIn}` : ''}`,
        );
        return r.ok ? 0 : 1;
      }
      case 'rehearsals': {
        const r = await c.get<{
          releases: number;
          rehearsed: number;
          share: number | null;
          rehearsals: RehearsalView[];
        }>('/api/rehearsals');
        if (json) out(JSON.stringify(r, null, 2));
        else
          out(
            [
              `${r.rehearsed} of ${r.releases} release(s) into rehearsal-gated environments were rehearsed first${r.share === null ? '' : ` (${r.share}%)`}`,
              ...r.rehearsals.map(
                (x) =>
                  `  ${new Date(x.at).toISOString().slice(0, 16)}  ${x.service} ${x.version} → ${x.environment} (in ${x.ranIn}): ${x.ok ? 'passed' : 'failed'} — ${x.detail}`,
              ),
            ].join('\n'),
          );
        return 0;
      }
      default:
        throw new UsageError(`unknown action "${action}"; valid: run, stop, list, show, signoff, rehearse, rehearsals`);
    }
  },
};
