/**
 * Requests and errors per revision, each second of a drill, read from the service's metrics
 * provider (the data plane's counters): what the dashboard draws the drill's timeline over. At
 * most an hour of samples; a failed read is a gap (null), never zero.
 */
import type { DrillTraffic } from '../core/drills/events.ts';

const EVERY_MS = 1000;
const MAX_SAMPLES = 3600;

export type ReadTraffic = (
  keys: string[],
  windowMs: number,
) => Promise<Record<string, { requests: number; errors: number } | null>>;

export class TrafficSampler {
  readonly #read: ReadTraffic;
  readonly #keys: string[];
  readonly #traffic: DrillTraffic;
  #timer: NodeJS.Timeout | null = null;
  #reading = false;

  constructor(read: ReadTraffic, keys: string[]) {
    this.#read = read;
    this.#keys = keys;
    this.#traffic = { at: [], byKey: Object.fromEntries(keys.map((k) => [k, { requests: [], errors: [] }])) };
  }

  start(): void {
    if (this.#keys.length === 0) return;
    this.#timer = setInterval(() => void this.#sample(), EVERY_MS);
    this.#timer.unref();
  }

  async #sample(): Promise<void> {
    if (this.#reading || this.#traffic.at.length >= MAX_SAMPLES) return;
    this.#reading = true;
    const at = Date.now();
    try {
      const read = await this.#read(this.#keys, EVERY_MS).catch(() => ({}) as Record<string, null>);
      this.#traffic.at.push(at);
      for (const k of this.#keys) {
        this.#traffic.byKey[k]!.requests.push(read[k]?.requests ?? null);
        this.#traffic.byKey[k]!.errors.push(read[k]?.errors ?? null);
      }
    } finally {
      this.#reading = false;
    }
  }

  stop(): DrillTraffic {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    return this.#traffic;
  }
}
