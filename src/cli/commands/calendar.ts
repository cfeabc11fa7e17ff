import { readFileSync } from 'node:fs';
import { calendar, type Calendar, type CalendarSpan } from '../../core/windows/calendar.ts';
import { parsePolicy } from '../../spec/index.ts';
import { type CommandDef, UsageError } from '../command.ts';

function format(c: Calendar): string {
  const lines = [
    `policy ${c.policy ?? '(none: no window or freeze restricts releases)'} · ${c.from.slice(0, 16)}Z → ${c.to.slice(0, 16)}Z`,
  ];
  if (c.state)
    lines.push(
      `${c.service}: ${c.state.open ? 'OPEN' : 'CLOSED'} — ${c.state.reason}${c.state.until ? `; changes at ${c.state.until}` : ''}`,
    );
  if (c.spans.length === 0) {
    lines.push('no windows or freezes in this period');
    return lines.join('\n');
  }
  const rows = c.spans.map((s: CalendarSpan) => [
    s.kind,
    s.name,
    s.localStart,
    s.localEnd,
    s.services?.join(',') ?? 'all',
  ]);
  const head = ['KIND', 'NAME', 'FROM (local)', 'UNTIL (local)', 'SERVICES'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  lines.push(
    ...[head, ...rows].map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    ),
  );
  return lines.join('\n');
}

export const calendarCommand: CommandDef = {
  name: 'calendar',
  summary: 'upcoming release windows and freezes (and, with --service, whether it may release now)',
  usage: 'sluice calendar [--days 14] [--service NAME] [-f POLICY.yaml (evaluate a policy file locally, no server)]',
  options: {
    days: { type: 'string', default: '14' },
    service: { type: 'string' },
    file: { type: 'string', short: 'f' },
  },
  async run({ values, client, out, json }) {
    const days = Number(values.days);
    if (!Number.isInteger(days) || days < 1 || days > 366)
      throw new UsageError(`--days "${values.days}" is not a number of days (1-366)`);
    const service = values.service as string | undefined;
    let c: Calendar;
    if (values.file !== undefined) {
      const file = String(values.file);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      let policy;
      try {
        policy = parsePolicy(text, file);
      } catch (err) {
        console.error((err as Error).message);
        return 1;
      }
      c = calendar(policy, { days, service }, Date.now());
    } else {
      const q = new URLSearchParams({ days: String(days), ...(service !== undefined && { service }) });
      c = await client().get<Calendar>(`/api/calendar?${q}`);
    }
    out(json ? JSON.stringify(c, null, 2) : format(c));
    return 0;
  },
};
