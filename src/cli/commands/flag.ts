import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { findKeyUses, keyPattern, type KeyUse } from '../../core/flags/scan.ts';
import { type CommandDef, UsageError } from '../command.ts';

interface RuleView {
  name: string;
  percentNow: number;
  serve: unknown;
  when: unknown[];
  segments: string[];
}
interface FlagView {
  name: string;
  type: string;
  owner: string | null;
  archived: boolean;
  defaultVariant: string;
  staleness: { stale: boolean; ageDays: number; lifetimeDays: number | null; overdueDays: number };
  environments: Record<
    string,
    {
      enabled: boolean;
      protected: boolean;
      paused?: { at: string; trigger: string; rule?: string | null; percent?: number | null } | null;
      rules: RuleView[];
    }
  >;
  reported?: Record<string, Record<string, { evaluations: number; errors: number }>>;
}

function table(head: string[], rows: string[][]): string {
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

const exposure = (e: FlagView['environments'][string]) =>
  !e.enabled
    ? 'off'
    : (e.rules.length === 0
        ? 'default'
        : e.rules.map((r) => `${r.name}${r.percentNow < 100 ? ` ${r.percentNow}%` : ''}`).join(', ')) +
      (e.paused ? ' (PAUSED)' : '');

/** Where a paused flag froze: ` at 37% (rule ramp)`, or nothing when no rule exposes it by percent. */
const frozenAt = (p: { rule?: string | null; percent?: number | null }) =>
  `${p.percent == null ? '' : ` at ${p.percent}%`}${p.rule ? ` (rule ${p.rule})` : ''}`;

function list(flags: FlagView[]): string {
  if (flags.length === 0) return 'no flags; apply a kind: FeatureFlag document (sluice apply -f FLAG.yaml)';
  return table(
    ['NAME', 'TYPE', 'OWNER', 'ENVIRONMENTS', 'STALE'],
    flags.map((f) => [
      f.archived ? `${f.name} (archived)` : f.name,
      f.type,
      f.owner ?? '-',
      Object.entries(f.environments)
        .map(([env, e]) => `${env}: ${exposure(e)}`)
        .join('; ') || '-',
      f.staleness.stale ? `${f.staleness.overdueDays}d over` : '',
    ]),
  );
}

function detail(f: FlagView): string {
  const lines = [
    `${f.name} (${f.type}, owner ${f.owner ?? 'none'})${f.archived ? ' archived' : ''}; default ${f.defaultVariant}; age ${f.staleness.ageDays}d of ${f.staleness.lifetimeDays ?? 'permanent'}${f.staleness.stale ? ' — potentially stale' : ''}`,
  ];
  for (const [env, e] of Object.entries(f.environments)) {
    lines.push(`  ${env}: ${e.enabled ? 'enabled' : 'DISABLED (kill switch)'}${e.protected ? ', protected' : ''}`);
    if (e.paused)
      lines.push(
        `    PAUSED by its contract${frozenAt(e.paused)} since ${e.paused.at}: ${e.paused.trigger} (sluice flag resume, or flag set)`,
      );
    for (const r of e.rules)
      lines.push(
        `    ${r.name}: ${r.when.length} condition(s)${r.segments.length ? `, segments ${r.segments.join(', ')}` : ''}, ${r.percentNow}% → ${JSON.stringify(r.serve)}`,
      );
    for (const [variant, c] of Object.entries(f.reported?.[env] ?? {}))
      lines.push(`    reported ${variant}: ${c.evaluations} evaluations, ${c.errors} errors`);
  }
  return lines.join('\n');
}

/** Source files under `dir` (no dot-folders, no node_modules, nothing past 1 MB). */
function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.isFile() && statSync(path).size <= 1024 * 1024) yield path;
  }
}

function scan(dir: string, keys: string[]): { uses: (KeyUse & { file: string })[]; unused: string[] } {
  const pattern = keyPattern(keys);
  const uses: (KeyUse & { file: string })[] = [];
  if (pattern !== null) {
    for (const file of sourceFiles(dir)) {
      const text = readFileSync(file, 'utf8');
      if (text.includes('\u0000')) continue; // binary
      for (const u of findKeyUses(text, pattern)) uses.push({ ...u, file: relative(process.cwd(), file) });
    }
  }
  const used = new Set(uses.map((u) => u.key));
  return { uses, unused: keys.filter((k) => !used.has(k)) };
}

const ACTIONS = 'list, get, set, resume, enable, disable, archive, stale, scan';

export const flagCommand: CommandDef = {
  name: 'flag',
  summary:
    'feature flags: list · get NAME · set NAME --env E --percent N · resume NAME --env E · enable|disable NAME --env E · archive NAME · stale · scan DIR',
  usage:
    'sluice flag list | get NAME | set NAME --env ENV --percent N [--rule RULE] [--reason TEXT] | resume NAME --env ENV [--reason TEXT] | enable NAME --env ENV | disable NAME --env ENV [--reason TEXT] | archive NAME | stale | scan DIR',
  options: {
    env: { type: 'string' },
    percent: { type: 'string' },
    rule: { type: 'string' },
    reason: { type: 'string' },
  },
  args: ['action', 'target?'],
  async run({ positionals, values, client, out, json }) {
    const [action, target] = positionals;
    const c = client();
    const show = (f: FlagView) => out(json ? JSON.stringify(f, null, 2) : detail(f));
    const name = () => {
      if (target === undefined)
        throw new UsageError(`say which flag: sluice flag ${action} NAME (see sluice flag list)`);
      return encodeURIComponent(target);
    };
    const env = () => {
      if (typeof values.env !== 'string')
        throw new UsageError(`say which environment: sluice flag ${action} ${target ?? 'NAME'} --env ENV`);
      return values.env;
    };
    const reason = typeof values.reason === 'string' ? { reason: values.reason } : {};
    switch (action) {
      case 'list': {
        const { flags } = await c.get<{ flags: FlagView[] }>('/api/flags');
        out(json ? JSON.stringify(flags, null, 2) : list(flags));
        return 0;
      }
      case 'get':
        show(await c.get<FlagView>(`/api/flags/${name()}`));
        return 0;
      case 'set': {
        const n = name();
        const text = values.percent;
        if (typeof text !== 'string') throw new UsageError('give the exposure: --percent N (0 to 100)');
        const percent = Number(text);
        if (text.trim() === '' || !Number.isFinite(percent) || percent < 0 || percent > 100)
          throw new UsageError(`--percent "${text}" is not a percent; give 0 to 100`);
        show(
          await c.post<FlagView>(`/api/flags/${n}/percent`, {
            environment: env(),
            percent,
            ...(typeof values.rule === 'string' && { rule: values.rule }),
            ...reason,
          }),
        );
        return 0;
      }
      case 'resume':
        show(await c.post<FlagView>(`/api/flags/${name()}/resume`, { environment: env(), ...reason }));
        return 0;
      case 'enable':
        show(await c.post<FlagView>(`/api/flags/${name()}/enable`, { environment: env() }));
        return 0;
      case 'disable':
        show(await c.post<FlagView>(`/api/flags/${name()}/disable`, { environment: env(), ...reason }));
        return 0;
      case 'archive':
        show(await c.post<FlagView>(`/api/flags/${name()}/archive`, {}));
        return 0;
      case 'stale': {
        const { flags } = await c.get<{ flags: FlagView[] }>('/api/flags/stale');
        if (json) out(JSON.stringify(flags, null, 2));
        else if (flags.length === 0) out('no flag is past its expected lifetime');
        else
          out(
            table(
              ['NAME', 'TYPE', 'OWNER', 'AGE', 'LIFETIME', 'OVER'],
              flags.map((f) => [
                f.name,
                f.type,
                f.owner ?? '-',
                `${f.staleness.ageDays}d`,
                `${f.staleness.lifetimeDays}d`,
                `${f.staleness.overdueDays}d`,
              ]),
            ),
          );
        return 0;
      }
      case 'scan': {
        if (target === undefined) throw new UsageError('say which folder: sluice flag scan DIR');
        const { flags } = await c.get<{ flags: FlagView[] }>('/api/flags');
        const found = scan(
          target,
          flags.filter((f) => !f.archived).map((f) => f.name),
        );
        if (json) out(JSON.stringify(found, null, 2));
        else {
          for (const u of found.uses) out(`${u.file}:${u.line}:${u.column}: ${u.key}  ${u.text}`);
          out(
            found.unused.length === 0
              ? 'every flag is used'
              : `flags no code in ${target} uses: ${found.unused.join(', ')}`,
          );
        }
        return 0;
      }
      default:
        throw new UsageError(`unknown action "${action}"; valid: ${ACTIONS}`);
    }
  },
};
