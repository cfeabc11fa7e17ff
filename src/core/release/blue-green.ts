import type { BlueGreenPlan, ReleaseStep } from './strategy.ts';

/**
 * Blue-green as steps the progression already knows: open the preview, judge it, wait for the
 * promotion, switch 100% at once, close the preview, watch the new active revision. One state
 * machine runs both strategies, so rollback, pause, promote and resume behave the same in both.
 *
 * With a preview header the preview is a cohort route on the service's router, and its requests
 * are measured like any canary's. With a preview listener the engine serves the new revision on
 * that address while the release is before the switch (see engine/preview-listener.ts).
 */
export function blueGreenSteps(bg: BlueGreenPlan): ReleaseStep[] {
  const steps: ReleaseStep[] = [];
  const header = 'header' in bg.preview ? bg.preview : null;
  if (header !== null) steps.push({ kind: 'setHeaderRoute', match: { header: header.header, value: header.value } });
  if (bg.prePromotionAnalysis) steps.push({ kind: 'analysis' });
  if (bg.autoPromotion === false) steps.push({ kind: 'pause', durationMs: null });
  else if (bg.autoPromotion !== true) steps.push({ kind: 'pause', durationMs: bg.autoPromotion.afterMs });
  steps.push({ kind: 'setWeight', weight: 100 });
  if (header !== null) steps.push({ kind: 'setHeaderRoute', match: null });
  if (bg.postPromotionMs > 0) steps.push({ kind: 'pause', durationMs: bg.postPromotionMs }, { kind: 'analysis' });
  return steps;
}
