/**
 * Units as people write them ("30s", "127.0.0.1:8080") and the schemas that turn them into the
 * core's units (milliseconds, host and port). Pure; shared by the spec and the drivers' config
 * schemas, which may both import core.
 */
import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** "500ms" | "30s" | "5m" | "1h" → milliseconds, or null when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

const DAY_MS = 86_400_000;

/**
 * A span as people write one for token lifetimes and audit exports: the durations above ("90s",
 * "12h") plus days and weeks ("30d", "2w"). Null when the text is not one.
 */
export function parseSpan(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(d|w)$/.exec(text.trim());
  if (m) return Number(m[1]) * (m[2] === 'w' ? 7 * DAY_MS : DAY_MS);
  return parseDuration(text);
}

/** Milliseconds → the largest whole unit a spec takes: 600000 → "10m", 90000 → "90s", 1500 → "1500ms". */
export function formatDuration(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${Math.round(ms)}ms`;
}

/** A duration written as "500ms", "30s", "5m" or "1h"; parsed to milliseconds. */
export const duration = z
  .string()
  .describe('A duration such as 500ms, 30s, 5m or 1h')
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration; write e.g. 500ms, 30s, 5m or 1h` });
      return z.NEVER;
    }
    return ms;
  });

/** host:port on which a listener binds, e.g. 127.0.0.1:8080 */
const validPort = (port: number) => Number.isInteger(port) && port >= 1 && port <= 65535;

export const listenAddress = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'write host:port, e.g. 127.0.0.1:8080')
  .refine((a) => !/:\d+$/.test(a) || validPort(Number(a.slice(a.lastIndexOf(':') + 1))), {
    error: (iss) =>
      `port ${String(iss.input).slice(String(iss.input).lastIndexOf(':') + 1)} is out of range: a port is 1..65535, e.g. 127.0.0.1:8080`,
  })
  .describe('host:port, e.g. 127.0.0.1:8080');

export function splitListen(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
}
