import { parseArgs } from 'node:util';
import { ApiError, client, findToken, serverUrl, Unreachable } from './client.ts';
import { type CommandDef, EXIT, UsageError } from './command.ts';
import { analyticsCommand } from './commands/analytics.ts';
import { docCommand, reportCommand } from './commands/doc.ts';
import { applyCommand, lintCommand, schemaCommand } from './commands/apply.ts';
import { approveCommand } from './commands/approve.ts';
import { auditCommand } from './commands/audit.ts';
import { calendarCommand } from './commands/calendar.ts';
import { controlCommands, deleteCommand } from './commands/control.ts';
import { diffCommand } from './commands/diff.ts';
import { importCommand } from './commands/import.ts';
import { graphCommand } from './commands/graph.ts';
import { trainCommand } from './commands/train.ts';
import { flagCommand } from './commands/flag.ts';
import { gamedayCommand } from './commands/gameday.ts';
import { overrideCommand } from './commands/override.ts';
import { proxyCommand } from './commands/proxy.ts';
import { releaseCommand } from './commands/release.ts';
import { serverCommand } from './commands/server.ts';
import { judgeCommand } from './commands/judge.ts';
import { historyCommand, statusCommand } from './commands/status.ts';
import { storeCommand } from './commands/store.ts';
import { tokenCommand } from './commands/token.ts';
import { waitCommand } from './commands/wait.ts';

const COMMANDS: CommandDef[] = [
  serverCommand,
  proxyCommand,
  applyCommand,
  statusCommand,
  ...controlCommands,
  historyCommand,
  waitCommand,
  lintCommand,
  schemaCommand,
  deleteCommand,
  tokenCommand,
  auditCommand,
  calendarCommand,
  judgeCommand,
  releaseCommand,
  approveCommand,
  overrideCommand,
  diffCommand,
  graphCommand,
  trainCommand,
  importCommand,
  storeCommand,
  analyticsCommand,
  docCommand,
  reportCommand,
  flagCommand,
  gamedayCommand,
];

const GLOBAL = {
  server: { type: 'string' },
  token: { type: 'string' },
  'data-dir': { type: 'string' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'sluice — progressive, reversible releases',
    '',
    'usage: sluice COMMAND [flags]',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'global flags: --server URL (or SLUICE_SERVER; default http://127.0.0.1:7070), -o json|text, -h/--help,',
    '  --token TOKEN (or SLUICE_TOKEN; else <data-dir>/admin.token when --data-dir DIR is given)',
    "sluice COMMAND --help shows the command's flags.",
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (cmd === undefined) {
    console.error(`sluice: unknown command "${name}"; valid: ${COMMANDS.map((c) => c.name).join(', ')}`);
    return EXIT.usage;
  }
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: { ...GLOBAL, ...cmd.options }, allowPositionals: true, strict: true });
    } catch (err) {
      const e = err as Error & { code?: string };
      if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
        const flag = /'([^']+)'/.exec(e.message)?.[1] ?? '?';
        const valid = Object.entries({ ...GLOBAL, ...cmd.options }).map(([n, o]) =>
          'short' in o && o.short ? `-${o.short}/--${n}` : `--${n}`,
        );
        throw new UsageError(`unknown flag ${flag}; valid: ${valid.join(', ')}`);
      }
      throw new UsageError(e.message);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      console.log(`${cmd.usage}\n\n${cmd.summary}`);
      return EXIT.ok;
    }
    const output = values.output ?? 'text';
    const formats = ['json', 'text', ...(cmd.outputs ?? [])];
    if (!formats.includes(output))
      throw new UsageError(`-o "${output}" is not an output format; valid: ${formats.join(', ')}`);
    const required = (cmd.args ?? []).filter((a) => !a.endsWith('?')).length;
    const allowed = (cmd.args ?? []).length;
    if (positionals.length < required) throw new UsageError(`missing ${cmd.args![positionals.length]!.toUpperCase()}`);
    if (positionals.length > allowed) throw new UsageError(`unexpected argument "${positionals[allowed]}"`);
    return await cmd.run({
      values: values as Record<string, string | boolean | string[] | undefined>,
      positionals,
      json: output === 'json',
      output,
      out: (text) => console.log(text),
      client: () =>
        client(
          serverUrl(values.server as string | undefined),
          findToken(values.token as string | undefined, values['data-dir'] as string | undefined),
        ),
    });
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`sluice ${name}: ${err.message}\nusage: ${cmd.usage}`);
      return EXIT.usage;
    }
    if (err instanceof Error && (err.name === 'SpecError' || err.name === 'SpecLimitError')) {
      console.error(err.message);
      return EXIT.failed;
    }
    if (err instanceof ApiError) {
      console.error(`sluice ${name}: ${err.message}`);
      return EXIT.failed;
    }
    if (err instanceof Unreachable) {
      console.error(`sluice ${name}: ${err.message}`);
      return EXIT.unreachable;
    }
    console.error(`sluice ${name}: ${(err as Error).stack ?? String(err)}`);
    return EXIT.failed;
  }
}

process.exitCode = await main(process.argv.slice(2));
