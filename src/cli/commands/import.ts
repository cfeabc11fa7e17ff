import { readFileSync } from 'node:fs';
import { type CommandDef, UsageError } from '../command.ts';

/** Importers by source format; `sluice import argo` is the first. */
const SOURCES = ['argo'] as const;

/**
 * A command line split into argv as a POSIX shell would split it, without expanding anything:
 * words by blanks, '…' literal, "…" with \" and \\, a backslash escaping the next character.
 */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word = (word ?? '') + c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) word = (word ?? '') + text[++i]!;
      else word = (word ?? '') + c;
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[++i]!;
    } else word = (word ?? '') + c;
  }
  if (quote !== null) throw new UsageError(`--target-command: the ${quote} opened is never closed`);
  if (word !== null) words.push(word);
  return words;
}

export const importCommand: CommandDef = {
  name: 'import',
  summary:
    'turn an Argo Rollout and its AnalysisTemplates into a Service spec; what does not carry over is listed on stderr',
  usage:
    'sluice import argo -f ROLLOUT.yaml [-f TEMPLATES.yaml …] --target-command "CMD ARGS…" [--listen HOST:PORT] [--version V] [-o yaml|json]',
  args: ['source'],
  outputs: ['yaml'],
  options: {
    file: { type: 'string', short: 'f', multiple: true },
    'target-command': { type: 'string' },
    listen: { type: 'string' },
    version: { type: 'string' },
  },
  async run({ values, positionals, out, json }) {
    const source = positionals[0]!;
    if (!(SOURCES as readonly string[]).includes(source))
      throw new UsageError(`cannot import "${source}"; valid: ${SOURCES.join(', ')}`);
    const files = (values.file as string[] | undefined) ?? [];
    if (files.length === 0)
      throw new UsageError('give the Rollout with -f FILE (and its AnalysisTemplates with more -f)');
    const command = values['target-command'];
    if (typeof command !== 'string' || command.trim() === '') {
      throw new UsageError(
        'give --target-command "…": the command that runs one instance of a version (Argo runs a container image; Sluice runs a command, e.g. --target-command "node releases/${version}/server.js")',
      );
    }
    const texts = files.map((file) => {
      try {
        return { file: file === '-' ? '<stdin>' : file, text: readFileSync(file === '-' ? 0 : file, 'utf8') };
      } catch (err) {
        throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    });
    const { importArgo, formatNote, parseSpecs } = await import('../../spec/index.ts');
    const version = values.version as string | undefined;
    const result = importArgo(texts, {
      targetCommand: splitCommand(command),
      listen: (values.listen as string | undefined) ?? '127.0.0.1:8080',
      ...(version === undefined ? {} : { version }),
    });
    for (const note of result.notes) console.error(formatNote(note));
    // What is printed must lint: the Service schema and every driver's, which check the flags (--listen, --target-command) too.
    const { driverSchemas } = await import('../../drivers/registry.ts');
    try {
      parseSpecs(result.yaml, `${texts[0]!.file} (imported)`, driverSchemas());
    } catch (err) {
      if (err instanceof Error && err.name === 'SpecError')
        throw Object.assign(new Error(`the imported spec does not pass sluice lint:\n${err.message}`), {
          name: 'SpecError',
        });
      throw err;
    }
    out(json ? JSON.stringify(result.service, null, 2) : result.yaml.trimEnd());
    return 0;
  },
};
