/**
 * How the demo talks: short lines stamped with the time since the demo started, an act title
 * now and then, and colour only when a person is watching (stdout is a TTY and NO_COLOR is unset).
 */

export type Tone = 'plain' | 'good' | 'bad' | 'warn' | 'dim';

const CODES: Record<Tone | 'title', string> = {
  plain: '',
  good: '\x1b[32m',
  bad: '\x1b[31m',
  warn: '\x1b[33m',
  dim: '\x1b[2m',
  title: '\x1b[1;36m',
};
const RESET = '\x1b[0m';

export class Narrator {
  readonly startedAt: number;
  readonly #colour: boolean;
  readonly #write: (text: string) => void;

  constructor(opts: { colour?: boolean; write?: (text: string) => void; now?: number } = {}) {
    this.startedAt = opts.now ?? Date.now();
    this.#colour = opts.colour ?? (process.stdout.isTTY === true && process.env.NO_COLOR === undefined);
    this.#write = opts.write ?? ((text) => process.stdout.write(text));
  }

  /** Seconds since the start, as the line prefix: "[ 12.3s]". */
  stamp(at = Date.now()): string {
    return `[${((at - this.startedAt) / 1000).toFixed(1).padStart(5)}s]`;
  }

  /** Seconds since the start, for prose: "12.3 s". */
  elapsed(at = Date.now()): string {
    return seconds(at - this.startedAt);
  }

  /** A new act: a blank line and a highlighted title. */
  act(title: string): void {
    this.#write(`\n${this.#paint('title', `== ${title}`)}\n`);
  }

  /** One narrated line; `at` (epoch ms) stamps it with when it happened rather than now. */
  say(text: string, tone: Tone = 'plain', at?: number): void {
    this.#write(`${this.#paint('dim', this.stamp(at))} ${this.#paint(tone, text)}\n`);
  }

  /** An indented detail under the previous line, without a stamp. */
  detail(text: string, tone: Tone = 'dim'): void {
    this.#write(`         ${this.#paint(tone, text)}\n`);
  }

  /** Unstamped lines, e.g. the summary table and the commands to try. */
  block(lines: string[], tone: Tone = 'plain'): void {
    for (const line of lines) this.#write(`${this.#paint(tone, line)}\n`);
  }

  #paint(tone: Tone | 'title', text: string): string {
    const code = CODES[tone];
    return this.#colour && code !== '' ? `${code}${text}${RESET}` : text;
  }
}

export const percent = (fraction: number): string => `${(fraction * 100).toFixed(1)}%`;
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
