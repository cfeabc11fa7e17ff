/**
 * Sticky buckets exactly as Unleash computes them, so users migrated from Unleash stay where
 * they were: bucket = murmur3("<groupId>:<stickinessValue>", seed) % n + 1.
 */
import { murmur3 } from './murmur3.ts';

/** Unleash's seed for variant weights (its flexible rollout uses seed 0). */
export const VARIANT_SEED = 86028157;

/** 1…n for this value in this group. */
export function bucketOf(groupId: string, value: string, n = 100, seed = 0): number {
  return (murmur3(`${groupId}:${value}`, seed) % n) + 1;
}

/** Whether a user with this value is inside `percent` of the group: bucket ≤ percent. */
export function inRollout(groupId: string, value: string, percent: number): boolean {
  if (percent >= 100) return true;
  if (percent <= 0) return false;
  return bucketOf(groupId, value) <= percent;
}

/** The variant of a weighted split for this value (weights need not sum to 100). */
export function pickWeighted(
  groupId: string,
  value: string,
  weights: readonly { variant: string; weight: number }[],
): string | null {
  const total = weights.reduce((s, w) => s + w.weight, 0);
  if (total <= 0) return null;
  const target = bucketOf(groupId, value, total, VARIANT_SEED);
  let counter = 0;
  for (const w of weights) {
    counter += w.weight;
    if (counter >= target) return w.variant;
  }
  return null;
}
