/** `spec.strategy`: the canary steps, normalised to core `Step`s. */
import { z } from 'zod';
import type { Step } from '../core/types.ts';
import { duration } from '../core/units.ts';
import { strictObject } from './strict-object.ts';

const stepItem = strictObject({
  setWeight: z.number().min(0).max(100).optional().describe('Percent of traffic (0..100) sent to the new version'),
  pause: strictObject({ duration: duration.optional() }, (input) =>
    input === null ? 'write pause: {} to wait for sluice promote, or pause: { duration: 30s }' : undefined,
  )
    .optional()
    .describe('Wait for duration, or until `sluice promote` when no duration is given ({})'),
}).transform((raw, ctx): Step => {
  const keys = Object.keys(raw).filter((key) => raw[key as keyof typeof raw] !== undefined);
  if (keys.length !== 1) {
    ctx.addIssue({ code: 'custom', message: 'a step has exactly one of setWeight: <0..100> or pause: {…}' });
    return z.NEVER;
  }
  if (raw.setWeight !== undefined) return { kind: 'setWeight', weight: raw.setWeight };
  return { kind: 'pause', durationMs: raw.pause?.duration ?? null };
});

/** Traffic only moves forward within a release; going back is what rollback is for. */
function checkWeightsRise(steps: unknown, ctx: z.RefinementCtx): void {
  if (!Array.isArray(steps)) return;
  let highest: { weight: number; index: number } | null = null;
  steps.forEach((step: { kind?: string; weight?: number } | undefined, index) => {
    const weight = step?.kind === 'setWeight' ? step.weight : undefined;
    if (weight === undefined) return;
    if (highest && weight < highest.weight) {
      ctx.addIssue({
        code: 'custom',
        path: [index, 'setWeight'],
        message: `setWeight ${weight} is below ${highest.weight} at steps[${highest.index}]: weights must not decrease`,
      });
    } else highest = { weight, index };
  });
}

export const strategySchema = strictObject({
  canary: strictObject({
    steps: z
      .array(stepItem)
      .min(1, 'steps must not be empty: list setWeight and pause steps')
      // Runs even when another step is invalid, so every problem is reported at once.
      .superRefine(checkWeightsRise, { when: () => true }),
  }),
}).describe('How traffic moves to the new version');
