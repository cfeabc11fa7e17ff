/** `spec.strategy`: canary steps or blue-green, the Verify window and health probes, normalised to a core `ReleasePlan`. */
import { z } from 'zod';
import { blueGreenSteps } from '../core/release/blue-green.ts';
import type { BlueGreenPlan, CohortMatch, ReleasePlan, ReleaseStep, RevertMode } from '../core/release/strategy.ts';
import { duration, listenAddress } from '../core/units.ts';
import { strictObject } from './strict-object.ts';

const token = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'write a header or cookie name, e.g. x-cohort');
const positive = duration.refine((ms) => ms > 0, 'must be longer than 0');

/** `{ header, value }`, `{ cookie, value }`, or `{}` to clear the route. */
const headerRoute = strictObject({
  header: token.optional().describe('Request header to match (case-insensitive name)'),
  cookie: token.optional().describe('Cookie to match'),
  value: z.string().min(1).optional().describe('The value that sends the request to the new version'),
}).transform((raw, ctx): CohortMatch | null => {
  if (raw.header === undefined && raw.cookie === undefined && raw.value === undefined) return null;
  if ((raw.header === undefined) === (raw.cookie === undefined) || raw.value === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'write { header: x-cohort, value: internal } or { cookie: cohort, value: beta }; {} clears the route',
    });
    return z.NEVER;
  }
  return raw.header !== undefined
    ? { header: raw.header.toLowerCase(), value: raw.value }
    : { cookie: raw.cookie!, value: raw.value };
});

const smoke = strictObject({
  command: z.array(z.string().min(1)).min(1).optional().describe('argv run without a shell; passes on exit code 0'),
  http: strictObject({
    url: z.url().describe('Requested with GET'),
    expectStatus: z.number().int().min(100).max(599).default(200),
  })
    .optional()
    .describe('Passes when the answer has expectStatus'),
  timeout: positive.prefault('30s').describe('Longer fails the step'),
}).transform((raw, ctx): Extract<ReleaseStep, { kind: 'smoke' }> => {
  if ((raw.command === undefined) === (raw.http === undefined)) {
    ctx.addIssue({
      code: 'custom',
      message: 'a smoke step has exactly one of command: [argv…] or http: { url, expectStatus }',
    });
    return z.NEVER;
  }
  const check = raw.command !== undefined ? { command: raw.command } : { http: raw.http! };
  return { kind: 'smoke', check, timeoutMs: raw.timeout };
});

const STEP_KINDS = ['setWeight', 'pause', 'setHeaderRoute', 'smoke', 'setFlag'] as const;

const setFlag = strictObject({
  flag: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'a flag name (kind: FeatureFlag)'),
  percent: z.number().min(0, 'a percent is 0 to 100').max(100, 'a percent is 0 to 100'),
  environment: z.string().min(1).default('production'),
  rule: z.string().min(1).optional(),
});

const stepItem = strictObject({
  setWeight: z.number().min(0).max(100).optional().describe('Percent of traffic (0..100) sent to the new version'),
  pause: strictObject({ duration: duration.optional() }, (input) =>
    input === null ? 'write pause: {} to wait for sluice promote, or pause: { duration: 30s }' : undefined,
  )
    .optional()
    .describe('Wait for duration, or until `sluice promote` when no duration is given ({})'),
  setHeaderRoute: headerRoute
    .optional()
    .describe('Send a cohort to the new version before any percentage; {} clears it'),
  smoke: smoke.optional().describe('A command or HTTP check that must pass before the next step'),
  setFlag: setFlag
    .optional()
    .describe("Expose a feature flag's rule to a percent in an environment (default production)"),
}).transform((raw, ctx): ReleaseStep => {
  const keys = STEP_KINDS.filter((key) => raw[key] !== undefined); // a cleared route is null, still given
  if (keys.length !== 1) {
    const classic = keys.every((k) => k === 'setWeight' || k === 'pause');
    const message = classic
      ? 'a step has exactly one of setWeight: <0..100> or pause: {…}'
      : `a step has exactly one of ${STEP_KINDS.join(', ')}${keys.length > 1 ? `; got ${keys.join(' and ')}` : ''}`;
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  }
  if (raw.setWeight !== undefined) return { kind: 'setWeight', weight: raw.setWeight };
  if (keys[0] === 'setHeaderRoute') return { kind: 'setHeaderRoute', match: raw.setHeaderRoute ?? null };
  if (raw.smoke !== undefined) return raw.smoke;
  if (raw.setFlag !== undefined)
    return {
      kind: 'setFlag',
      flag: raw.setFlag.flag,
      environment: raw.setFlag.environment,
      percent: raw.setFlag.percent,
      rule: raw.setFlag.rule ?? null,
    };
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

const canary = strictObject({
  steps: z
    .array(stepItem)
    .min(1, 'steps must not be empty: list setWeight and pause steps')
    // Runs even when another step is invalid, so every problem is reported at once.
    .superRefine(checkWeightsRise, { when: () => true }),
});

const blueGreen = strictObject({
  previewListen: listenAddress.optional().describe('A second listener serving only the new version before the switch'),
  previewHeader: strictObject({ name: token, value: z.string().min(1) })
    .optional()
    .describe('Requests with this header value reach the new version before the switch (measured like a canary)'),
  prePromotionAnalysis: z
    .boolean()
    .default(false)
    .describe('Hold the switch until every rule passes on preview traffic'),
  autoPromotion: z
    .union([z.boolean(), strictObject({ after: duration })], {
      error: 'write true, false (wait for sluice promote) or { after: 5m }',
    })
    .default(true),
  postPromotionAnalysis: duration
    .prefault('0s')
    .describe('How long the contract watches the new version after the switch'),
  scaleDownDelay: duration
    .prefault('30s')
    .describe('The old version keeps running this long after success: undo is instant'),
}).transform((raw, ctx) => {
  if ((raw.previewListen === undefined) === (raw.previewHeader === undefined)) {
    ctx.addIssue({
      code: 'custom',
      message: 'blueGreen needs exactly one of previewListen: host:port or previewHeader: { name, value }',
    });
    return z.NEVER;
  }
  if (raw.previewListen !== undefined && raw.prePromotionAnalysis) {
    // The metrics provider measures the service's router; a preview listener's requests are not in it.
    ctx.addIssue({
      code: 'custom',
      path: ['prePromotionAnalysis'],
      message: 'prePromotionAnalysis needs previewHeader: requests on a preview listener are not measured per version',
    });
    return z.NEVER;
  }
  const plan: BlueGreenPlan = {
    preview:
      raw.previewListen !== undefined
        ? { listen: raw.previewListen }
        : { header: raw.previewHeader!.name.toLowerCase(), value: raw.previewHeader!.value },
    prePromotionAnalysis: raw.prePromotionAnalysis,
    autoPromotion: typeof raw.autoPromotion === 'boolean' ? raw.autoPromotion : { afterMs: raw.autoPromotion.after },
    postPromotionMs: raw.postPromotionAnalysis,
  };
  return { plan, scaleDownDelayMs: raw.scaleDownDelay };
});

const probes = strictObject({
  http: strictObject({
    path: z.string().startsWith('/', 'write a path such as /healthz').default('/healthz'),
    interval: positive.prefault('1s'),
    timeout: positive.prefault('1s'),
    failureThreshold: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe('Failures in a row of one instance that fail the release'),
  }),
});

/** The 24 h default of the issue: a release verified for a day before it counts as done. */
export const DEFAULT_VERIFY_WINDOW = '24h';

/** What the rest of Sluice reads: `canary.steps` are the steps run (blue-green compiled to steps), `plan` everything. */
export interface Strategy {
  canary: { steps: ReleaseStep[] };
  plan: ReleasePlan;
}

export const strategySchema = strictObject({
  canary: canary.optional().describe('Traffic moves to the new version in steps'),
  blueGreen: blueGreen.optional().describe('The new version runs beside the old, previewed, then takes 100% at once'),
  verify: strictObject({ window: positive.prefault(DEFAULT_VERIFY_WINDOW) })
    .optional()
    .describe('After 100%, stay Verifying for this window, still watched by the contract; a failure rolls back'),
  probes: probes.optional().describe('Active HTTP probes of each instance of the new version'),
})
  .transform((raw, ctx): Strategy => {
    if ((raw.canary === undefined) === (raw.blueGreen === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'strategy needs exactly one of canary: { steps } or blueGreen: { … }' });
      return z.NEVER;
    }
    const bg = raw.blueGreen ?? null;
    const steps = bg !== null ? blueGreenSteps(bg.plan) : raw.canary!.steps;
    const http = raw.probes?.http;
    const plan: ReleasePlan = {
      strategy: bg !== null ? 'blueGreen' : 'canary',
      steps,
      blueGreen: bg?.plan ?? null,
      scaleDownDelayMs: bg?.scaleDownDelayMs ?? 0,
      verifyMs: raw.verify?.window ?? 0,
      probes: http
        ? {
            path: http.path,
            intervalMs: http.interval,
            timeoutMs: http.timeout,
            failureThreshold: http.failureThreshold,
          }
        : null,
    };
    return { canary: { steps }, plan };
  })
  .describe('How traffic moves to the new version');

const revert = z
  .union(
    [
      z.literal('instant'),
      strictObject({
        gradual: strictObject({
          steps: z.array(z.number().min(0).max(100)).min(1).describe('Canary weights to walk down, e.g. [50, 20, 0]'),
          interval: positive.prefault('10s'),
        }),
      }),
    ],
    { error: 'write instant or { gradual: { steps: [50, 20, 0], interval: 10s } }' },
  )
  .transform((raw, ctx): RevertMode => {
    if (raw === 'instant') return { kind: 'instant' };
    const { steps, interval } = raw.gradual;
    if (steps.some((w, i) => i > 0 && w >= steps[i - 1]!)) {
      ctx.addIssue({
        code: 'custom',
        path: ['gradual', 'steps'],
        message: `revert steps must decrease, got [${steps.join(', ')}]`,
      });
      return z.NEVER;
    }
    return { kind: 'gradual', steps: steps.at(-1) === 0 ? steps : [...steps, 0], intervalMs: interval };
  });

/**
 * `rollbackContract.onFail` and `rollbackContract.revert`: spread these fields into the contract
 * schema; the contract's output carries them as `RollbackModes` (read with core `modesOf`).
 */
export const rollbackModeFields = {
  onFail: z
    .enum(['rollback', 'pause'], { error: 'write rollback or pause' })
    .default('rollback')
    .describe('A failed rule rolls back (default), or pauses the release at its weights for a person'),
  revert: revert
    .prefault('instant')
    .describe(
      'instant (default), or { gradual: { steps, interval } }; gradual is refused for a canary failing (nearly) every request',
    ),
};
