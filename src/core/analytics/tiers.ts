/**
 * The DORA performance tiers each key falls in, as data: the thresholds of one year's State of
 * DevOps report. A new report is a new entry, never an edit, so a figure keeps the tier it had
 * under the report it was read against (the answer names `version` and `year`).
 */
export type Tier = 'elite' | 'high' | 'medium' | 'low';

export interface TierThresholds {
  version: string;
  /** The year of the report the thresholds come from. */
  year: number;
  source: string;
  /** Deployments per day at least: elite "on demand" (daily or more), high weekly, medium monthly. */
  deploymentsPerDay: { elite: number; high: number; medium: number };
  /** Median lead time below (seconds). */
  leadTimeS: { elite: number; high: number; medium: number };
  /** Change failure rate at most (a share, 0–1). */
  changeFailureRate: { elite: number; high: number; medium: number };
  /** Median time to restore below (seconds). */
  timeToRestoreS: { elite: number; high: number; medium: number };
}

const DAY = 86_400;

export const DORA_2023: TierThresholds = {
  version: 'dora-2023',
  year: 2023,
  source: 'Accelerate State of DevOps Report 2023, software delivery performance clusters',
  deploymentsPerDay: { elite: 1, high: 1 / 7, medium: 1 / 30 },
  leadTimeS: { elite: DAY, high: 7 * DAY, medium: 30 * DAY },
  changeFailureRate: { elite: 0.05, high: 0.1, medium: 0.15 },
  timeToRestoreS: { elite: 3600, high: DAY, medium: 7 * DAY },
};

/** Every known set of thresholds by version; the newest is the default. */
export const TIER_THRESHOLDS: Readonly<Record<string, TierThresholds>> = { [DORA_2023.version]: DORA_2023 };
export const DEFAULT_TIERS = DORA_2023;

/** Higher is better (deployment frequency). */
export function tierAtLeast(value: number | null, t: { elite: number; high: number; medium: number }): Tier | null {
  if (value === null) return null;
  return value >= t.elite ? 'elite' : value >= t.high ? 'high' : value >= t.medium ? 'medium' : 'low';
}

/** Lower is better (times); `inclusive` for rates, where the threshold itself is still in the tier. */
export function tierBelow(
  value: number | null,
  t: { elite: number; high: number; medium: number },
  inclusive = false,
): Tier | null {
  if (value === null) return null;
  const within = (limit: number) => (inclusive ? value <= limit : value < limit);
  return within(t.elite) ? 'elite' : within(t.high) ? 'high' : within(t.medium) ? 'medium' : 'low';
}
