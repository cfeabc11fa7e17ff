/**
 * routes.log in the proxy's state dir: the router's write log. One JSON line per `PUT /routes` the
 * proxy decided, in the order it decided them: accepted (persisted and applied) or refused for a
 * stale lease epoch. With replicated control planes it shows which epoch set each table, so a
 * stale owner's write, refused or (a fencing bug) accepted, is there to see.
 * Bounded: past `maxBytes` the file moves to routes.log.1 (one generation kept) and starts again.
 */
import { appendFile, rename, stat } from 'node:fs/promises';
import type { RouteTable } from '../core/route-table.ts';

export interface RouteWrite {
  /** Epoch ms when the proxy decided. */
  at: number;
  /** The lease epoch the table carried; null for a table without one (a single server). */
  epoch: number | null;
  accepted: boolean;
  /** Percent by version, as the table asked. */
  weights: Record<string, number>;
  /** Why it was refused. */
  error?: string;
}

/** 1 MiB: about 8,000 writes; a release makes a few dozen. */
export const ROUTE_LOG_MAX_BYTES = 1 << 20;

export function routeWrite(table: RouteTable, at: number, refused?: string): RouteWrite {
  const weights: Record<string, number> = {};
  for (const b of table.backends) weights[b.version] = (weights[b.version] ?? 0) + b.weight;
  return {
    at,
    epoch: table.epoch ?? null,
    accepted: refused === undefined,
    weights,
    ...(refused && { error: refused }),
  };
}

export class RouteLog {
  readonly #path: string;
  readonly #maxBytes: number;
  #size: number | null = null;

  constructor(path: string, maxBytes = ROUTE_LOG_MAX_BYTES) {
    this.#path = path;
    this.#maxBytes = maxBytes;
  }

  /** Appends one line (callers serialise: the admin API's table queue). */
  async append(write: RouteWrite): Promise<void> {
    const line = `${JSON.stringify(write)}\n`;
    this.#size ??= await stat(this.#path).then(
      (s) => s.size,
      () => 0,
    );
    if (this.#size > 0 && this.#size + line.length > this.#maxBytes) {
      await rename(this.#path, `${this.#path}.1`);
      this.#size = 0;
    }
    await appendFile(this.#path, line);
    this.#size += Buffer.byteLength(line);
  }
}
