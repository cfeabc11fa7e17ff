/**
 * The flag guard's per-variant series (flags/variant-series.ts) kept in the data dir across
 * restarts. Written beside the guard, never in its round: every `intervalMs` when a sample was kept
 * since the last write, and once more at close, to a file aside then renamed, so a reader (or a
 * crash mid-write) never sees half of one. Read once at start, before the guard's first round;
 * samples older than the series' window are dropped. A missing file is a first start; a file that
 * cannot be read, is not JSON or not this shape is reported through `log` and ignored: the series
 * start empty, as they did before they were kept.
 */
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { Sample, Track, VariantSeries } from './variant-series.ts';

export const VARIANT_SERIES_FILE = 'flag-variant-series.json';
/** Larger than any the series write (capacity × variants × flags): such a file is not ours, and not read. */
export const VARIANT_SERIES_MAX_BYTES = 32 * 1024 * 1024;

const FORMAT = 1;

export interface VariantSeriesFileOptions {
  /** The file: `<data dir>/flag-variant-series.json`. */
  path: string;
  series: VariantSeries;
  /** How often a changed series is written (default 10 s, the series' default sampling). */
  intervalMs?: number;
  now?: () => number;
  log: (message: string, err?: Error) => void;
}

class BadFile extends Error {}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const OUTCOMES = new Set(['Pass', 'Fail', 'Inconclusive']);

function tallies(v: unknown, where: string): Record<string, { requests: number; errors: number }> {
  if (!isRecord(v)) throw new BadFile(`${where}: not an object of variants`);
  for (const [variant, c] of Object.entries(v))
    if (!isRecord(c) || !isCount(c.requests) || !isCount(c.errors))
      throw new BadFile(`${where}.${variant}: not { requests, errors } counts`);
  return v as Record<string, { requests: number; errors: number }>;
}

function sample(v: unknown, where: string): Sample {
  if (!isRecord(v) || typeof v.at !== 'number' || !Number.isFinite(v.at))
    throw new BadFile(`${where}: a sample needs its time "at" (epoch ms)`);
  const verdicts = v.verdicts;
  if (!isRecord(verdicts)) throw new BadFile(`${where}.verdicts: not an object of variants`);
  for (const [variant, x] of Object.entries(verdicts))
    if (!isRecord(x) || !OUTCOMES.has(x.outcome as string) || typeof x.reason !== 'string')
      throw new BadFile(`${where}.verdicts.${variant}: not { outcome: Pass | Fail | Inconclusive, reason }`);
  return { at: v.at, counts: tallies(v.counts, `${where}.counts`), verdicts: verdicts as Sample['verdicts'] };
}

/** The tracks a file holds, checked throughout; throws naming the first thing that is wrong. */
export function parseVariantSeriesFile(text: string): Record<string, Track> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new BadFile(`not JSON (${(err as Error).message}): truncated or overwritten`);
  }
  if (!isRecord(doc) || doc.format !== FORMAT)
    throw new BadFile(`not a series file of format ${FORMAT} ({ format: ${FORMAT}, flags: { … } })`);
  if (!isRecord(doc.flags)) throw new BadFile('flags: not an object of flags');
  const tracks: Record<string, Track> = {};
  for (const [flag, t] of Object.entries(doc.flags)) {
    const where = `flags.${flag}`;
    if (!isRecord(t) || typeof t.environment !== 'string' || typeof t.offVariant !== 'string')
      throw new BadFile(`${where}: needs environment and offVariant`);
    if (!Array.isArray(t.samples)) throw new BadFile(`${where}.samples: not a list`);
    const samples = t.samples.map((s, i) => sample(s, `${where}.samples[${i}]`));
    if (samples.some((s, i) => i > 0 && s.at < samples[i - 1]!.at))
      throw new BadFile(`${where}.samples: not in time order`);
    tracks[flag] = {
      environment: t.environment,
      offVariant: t.offVariant,
      samples,
      last: tallies(t.last, `${where}.last`),
    };
  }
  return tracks;
}

export class VariantSeriesFile {
  readonly #o: VariantSeriesFileOptions;
  /** The series' revision last written (or read): nothing to write until a sample is kept. */
  #saved = 0;
  #timer: NodeJS.Timeout | null = null;
  /** The write under way: one at a time. */
  #writing: Promise<void> = Promise.resolve();
  /** The last write failure reported: a full disk is reported once, not every interval. */
  #failing: string | null = null;

  constructor(o: VariantSeriesFileOptions) {
    this.#o = o;
  }

  /** Restore what the file holds into the series; never throws. */
  async load(): Promise<void> {
    const { path, series, log } = this.#o;
    try {
      const size = (await stat(path)).size;
      if (size > VARIANT_SERIES_MAX_BYTES)
        throw new BadFile(`${size} bytes, more than the ${VARIANT_SERIES_MAX_BYTES} a series file can be`);
      series.restore(parseVariantSeriesFile(await readFile(path, 'utf8')), (this.#o.now ?? Date.now)());
      this.#saved = series.revision;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      const why = err instanceof BadFile ? err.message : (err as Error).message;
      log(
        `flag variant series: ${path} is ignored (${why}); the Flags page's per-variant charts start empty and the file is replaced at the next sample`,
        err as Error,
      );
    }
  }

  start(): void {
    this.#timer = setInterval(() => void this.save(), this.#o.intervalMs ?? 10_000);
    this.#timer.unref();
  }

  /** Write the series if a sample was kept since the last write (after any write under way). */
  save(): Promise<void> {
    this.#writing = this.#writing.then(() => this.#write());
    return this.#writing;
  }

  /** Stop writing every interval, and write what is not written yet. */
  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    await this.save();
  }

  async #write(): Promise<void> {
    const { path, series, log } = this.#o;
    const revision = series.revision;
    if (revision === this.#saved) return;
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify({ format: FORMAT, flags: series.snapshot((this.#o.now ?? Date.now)()) }), {
        mode: 0o600,
      });
      await rename(tmp, path);
      this.#saved = revision;
      this.#failing = null;
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      const message = (err as Error).message;
      if (this.#failing !== message) log(`flag variant series: could not write ${path}; trying again`, err as Error);
      this.#failing = message;
    }
  }
}
