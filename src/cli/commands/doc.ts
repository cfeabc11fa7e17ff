import { writeFileSync } from 'node:fs';
import { DOCUMENT_KINDS, type GeneratedDocument } from '../../core/documents/types.ts';
import { type CommandDef, EXIT, UsageError } from '../command.ts';

export const docCommand: CommandDef = {
  name: 'doc',
  summary: 'release documents written from the log: plan · schedule · rollback · retro · runbook · comms',
  usage: `sluice doc ${DOCUMENT_KINDS.join('|')} SERVICE [--release N] [-o md|json]`,
  options: { release: { type: 'string' } },
  args: ['kind', 'service'],
  outputs: ['md'],
  async run({ positionals, values, client, out, json }) {
    const [kind, service] = positionals as [string, string];
    if (!(DOCUMENT_KINDS as readonly string[]).includes(kind))
      throw new UsageError(`unknown document "${kind}"; valid: ${DOCUMENT_KINDS.join(', ')}`);
    const release = values.release as string | undefined;
    if (release !== undefined && !/^[1-9]\d*$/.test(release))
      throw new UsageError(`--release "${release}" is not a release number; sluice history ${service} lists them`);
    const doc = await client().get<GeneratedDocument>(
      `/api/services/${encodeURIComponent(service)}/documents/${kind}${release === undefined ? '' : `?release=${release}`}`,
    );
    out(json ? JSON.stringify(doc, null, 2) : doc.markdown);
    return EXIT.ok;
  },
};

interface WeeklyAnswer {
  title: string;
  markdown: string;
  html: string;
  week: { since: string; until: string };
  generatedFrom: { seq: number; hash: string | null };
}

export const reportCommand: CommandDef = {
  name: 'report',
  summary: 'the weekly delivery report (the four keys, the week before, six-month trend): -o md|html|json',
  usage: 'sluice report weekly [--env production] [-o md|html|json] [--out FILE]',
  options: { env: { type: 'string' }, out: { type: 'string' } },
  args: ['period'],
  outputs: ['md', 'html'],
  async run({ positionals, values, client, out, output }) {
    if (positionals[0] !== 'weekly') throw new UsageError(`unknown report "${positionals[0]}"; valid: weekly`);
    const env = (values.env as string | undefined) ?? 'production';
    const r = await client().get<WeeklyAnswer>(`/api/reports/weekly?env=${encodeURIComponent(env)}`);
    const text = output === 'json' ? JSON.stringify(r, null, 2) : output === 'html' ? r.html : r.markdown;
    const file = values.out as string | undefined;
    if (file === undefined) out(text);
    else {
      writeFileSync(file, text);
      out(`${r.title}: written to ${file}`);
    }
    return EXIT.ok;
  },
};
