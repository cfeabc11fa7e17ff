import { parseSpan } from '../core/units.ts';

/**
 * `--since` as people write it: an ISO 8601 time ("2026-11-01", "2026-11-01T08:00:00Z"), or a
 * span back from `now` ("24h", "7d"). Epoch milliseconds, or null when it is neither.
 */
export function parseSince(text: string, now: number): number | null {
  const span = parseSpan(text);
  if (span !== null) return now - span;
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim())) return null;
  const at = Date.parse(text.trim());
  return Number.isFinite(at) ? at : null;
}
