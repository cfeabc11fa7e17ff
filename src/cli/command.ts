import type { ParseArgsOptionsConfig } from 'node:util';
import type { Client } from './client.ts';

/** What a command's run() gets: parsed flags, positionals, output, and the API client. */
export interface CommandContext {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  json: boolean;
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
  run(ctx: CommandContext): Promise<number>;
}

/** A usage error: exit code 2 with the command's usage. */
export class UsageError extends Error {}

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

export function parseDurationFlag(name: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!m) throw new UsageError(`--${name} "${text}" is not a duration; write e.g. 30s, 5m or 1h`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}
