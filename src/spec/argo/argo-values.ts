/** Argo's scalar formats: Go durations (`1m30s`), pause durations (seconds or a duration), integers written as strings. Pure. */

const GO_UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const GO_DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;

/** A Go duration (`5m`, `1m30s`, `500ms`) in milliseconds, or null. */
export function parseGoDuration(value: unknown): number | null {
  if (typeof value !== 'string' || !GO_DURATION.test(value.trim())) return null;
  let ms = 0;
  for (const m of value.trim().matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * GO_UNIT_MS[m[2]!]!;
  return Math.round(ms);
}

/** A pause's `duration`: an integer (seconds), or a string of seconds or with a unit (`10`, `10s`, `1h`). */
export function parsePauseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value * 1000 : null;
  if (typeof value === 'string' && /^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  return parseGoDuration(value);
}

/** An integer, also written as a string (`"2"`, as an arg fills it in). */
export function parseInteger(value: unknown): number | null {
  if (typeof value === 'number') return Number.isInteger(value) ? value : null;
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number(value);
  return null;
}
