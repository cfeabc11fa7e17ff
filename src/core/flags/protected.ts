import type { FeatureFlag } from './model.ts';

/**
 * The protected environments (`protected: true`, before or after) whose definition a newly
 * applied flag changes: applying it is an approver's. A new flag is a change of each.
 */
export function protectedChanges(before: FeatureFlag | null, after: FeatureFlag): string[] {
  const envs = new Set([...Object.keys(after.environments), ...Object.keys(before?.environments ?? {})]);
  return [...envs].filter((env) => {
    const a = before?.environments[env];
    const b = after.environments[env];
    if (!(a?.protected ?? false) && !(b?.protected ?? false)) return false;
    const shared = (f: FeatureFlag | null) =>
      f && { variants: f.variants, defaultVariant: f.defaultVariant, offVariant: f.offVariant };
    return JSON.stringify([a, shared(before)]) !== JSON.stringify([b, shared(after)]);
  });
}
