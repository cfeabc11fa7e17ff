/**
 * One migration step against one database: a SQL file (run in one transaction) or an argv command
 * (no shell; it gets the database's address in SLUICE_DATABASE_URL or SLUICE_DATABASE_PATH).
 * Returns what a person reads in the event: how long it took and what it printed, scrubbed of secrets.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { MigrationStep } from '../../spec/index.ts';
import { childEnv, scrubSecrets } from '../secrets.ts';
import type { MigrationDatabase } from './types.ts';

export interface StepResult {
  ok: boolean;
  durationMs: number;
  /** What the step printed (a command's stdout and stderr; for SQL, what ran), at most 4 KB. */
  output: string;
  error: string | null;
}

const COMMAND_TIMEOUT_MS = 10 * 60_000;
const MAX_OUTPUT = 4096;

/** How a step is named in messages: the file, or the command line. */
export function describeStep(step: MigrationStep): string {
  return typeof step === 'string' ? step : step.join(' ');
}

function runCommand(argv: readonly string[], db: MigrationDatabase, cwd: string): Promise<string> {
  return new Promise((done, fail) => {
    execFile(
      argv[0]!,
      argv.slice(1),
      { cwd, env: childEnv(db.commandEnv()), timeout: COMMAND_TIMEOUT_MS, maxBuffer: 1024 * 1024 },
      (err, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        if (err)
          fail(
            Object.assign(
              new Error(
                `${argv.join(' ')} failed (${err.code ?? err.signal ?? err.message})${output ? `: ${output.trim()}` : ''}`,
              ),
              { output },
            ),
          );
        else done(output);
      },
    );
  });
}

export async function runStep(step: MigrationStep, db: MigrationDatabase, baseDir: string): Promise<StepResult> {
  const started = performance.now();
  const clip = (s: string) => scrubSecrets(s.length > MAX_OUTPUT ? `${s.slice(0, MAX_OUTPUT)}…` : s);
  try {
    let output: string;
    if (typeof step === 'string') {
      const file = resolve(baseDir, step);
      const sql = await readFile(file, 'utf8');
      await db.exec(sql);
      output = `ran ${step} (${sql.length} bytes of SQL) in one transaction`;
    } else {
      output = await runCommand(step, db, baseDir);
    }
    return { ok: true, durationMs: Math.round(performance.now() - started), output: clip(output), error: null };
  } catch (err) {
    const output = (err as { output?: string }).output ?? '';
    return {
      ok: false,
      durationMs: Math.round(performance.now() - started),
      output: clip(output),
      error: clip((err as Error).message),
    };
  }
}
