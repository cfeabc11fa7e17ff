/**
 * How long a flag is expected to live, by type, and whether it is past it. "Potentially stale"
 * is recomputed from the time each time it is asked, never latched: extending a flag's lifetime
 * (or re-typing it) clears it.
 */
import type { FlagType } from './model.ts';

const DAY_MS = 86_400_000;

/** Expected lifetime in days by type (null: permanent). A flag's `lifetime:` overrides it. */
export const EXPECTED_LIFETIME_DAYS: Record<FlagType, number | null> = {
  release: 40,
  experiment: 40,
  operational: 7,
  killSwitch: null,
  permission: null,
};

export interface Staleness {
  stale: boolean;
  /** Days since the flag was created. */
  ageDays: number;
  lifetimeDays: number | null;
  /** Days past its lifetime (0 when not stale). */
  overdueDays: number;
}

export function staleness(createdAt: number, lifetimeDays: number | null, now: number): Staleness {
  const ageDays = Math.floor((now - createdAt) / DAY_MS);
  const over = lifetimeDays === null ? 0 : ageDays - lifetimeDays;
  return { stale: lifetimeDays !== null && over > 0, ageDays, lifetimeDays, overdueDays: Math.max(0, over) };
}
