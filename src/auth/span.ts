import { parseDuration } from '../core/units.ts';

const DAY = 86_400_000;

/**
 * A span as people write one for token lifetimes and audit exports: the core's units
 * ("90s", "12h") plus days and weeks ("30d", "2w"). Null when the text is not one.
 */
export function parseSpan(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(d|w)$/.exec(text.trim());
  if (m) return Number(m[1]) * (m[2] === 'w' ? 7 * DAY : DAY);
  return parseDuration(text);
}
