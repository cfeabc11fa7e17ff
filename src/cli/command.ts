import type { ParseArgsOptionsConfig } from 'node:util';
import { parseDuration } from '../core/units.ts';
import type { Client } from './client.ts';

/** What a command's run() gets: parsed flags, positionals, output, and the API client. */
export interface CommandContext {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  json: boolean;
  /** The -o value: json, text, or one of the command's own `outputs`. */
  output: string;
  out: (text: string) => void;
  client: () => Client;
}

export interface CommandDef {
  name: string;
  summary: string;
  usage: string;
  options?: ParseArgsOptionsConfig;
  /** Names of the positional arguments, for the usage check; `?` marks optional ones. */
  args?: string[];
  /** Output formats beyond json and text that -o accepts for this command (e.g. jsonl). */
  outputs?: readonly string[];
  run(ctx: CommandContext): Promise<number>;
}

import { UsageError } from './errors.ts';

export { UsageError };

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

export function parseDurationFlag(name: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new UsageError(`--${name} "${text}" is not a duration; write e.g. 30s, 5m or 1h`);
  return ms;
}
