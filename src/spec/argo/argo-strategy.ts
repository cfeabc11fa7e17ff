/**
 * A Rollout's `strategy` as Sluice's: canary steps (setWeight, pause, analysis, experiment,
 * setHeaderRoute) and blue-green (preview, pre- and post-promotion analysis, auto-promotion,
 * scale-down delay). Analyses add their metrics to the one rollback contract; the steps that
 * waited for them become pauses, during which a step moves on only when every rule passes.
 */
import { formatDuration } from '../../core/units.ts';
import type { ArgValue } from './argo-args.ts';
import { importAnalysis, type AnalysisContext } from './argo-analysis.ts';
import type { ImportedRule } from './argo-metric.ts';
import { isRaw, type Path, type Raw } from './argo-source.ts';
import { parseInteger, parsePauseDuration } from './argo-values.ts';

/** A step, or one whose pause waits on rules and is known once the contract's interval is. */
export type PendingStep = Raw | ((intervalMs: number) => Raw);

export interface ImportedStrategy {
  strategy: { canary: { steps: PendingStep[] } } | { blueGreen: Raw | ((intervalMs: number) => Raw) };
  rules: ImportedRule[];
}

/** The Sluice header that previews a blue-green's new version (Argo previews through a Kubernetes Service). */
export const PREVIEW_HEADER = { name: 'x-sluice-preview', value: 'true' } as const;

/** How long Argo measures these rules: count × interval, the longest of them; undefined when one runs until stopped. */
function measuredFor(rules: ImportedRule[], intervalMs: number): number | undefined {
  let longest = 0;
  for (const r of rules) {
    if (r.count === undefined && r.intervalMs !== undefined) return undefined;
    longest = Math.max(longest, (r.count ?? 1) * (r.intervalMs ?? intervalMs));
  }
  return longest;
}

function analysisNote(ctx: AnalysisContext, path: Path, what: string, rules: ImportedRule[], step = ''): void {
  const names = rules.map((r) => String(r.rule.name)).join(', ');
  const rulesText =
    rules.length === 0
      ? 'no metric of it carried over'
      : `its metrics (${names}) are rules of the rollback contract, evaluated whenever the new version takes traffic, for the whole release`;
  ctx.rollout.note('changed', path, `${what}: ${rulesText}${step}`);
}

export function importStrategy(ctx: AnalysisContext): ImportedStrategy {
  const { rollout } = ctx;
  const canary = rollout.peek(['spec', 'strategy', 'canary']);
  const blueGreen = rollout.peek(['spec', 'strategy', 'blueGreen']);
  if (isRaw(blueGreen)) return importBlueGreen(ctx, blueGreen);
  if (!isRaw(canary)) {
    rollout.note(
      'added',
      ['spec', 'strategy'],
      'no canary or blueGreen strategy (a rolling update): imported as one canary step, setWeight: 100',
    );
    return { strategy: { canary: { steps: [{ setWeight: 100 }] } }, rules: [] };
  }
  const base: Path = ['spec', 'strategy', 'canary'];
  const rules: ImportedRule[] = [];
  if (isRaw(canary.analysis)) {
    const found = importAnalysis(ctx, [...base, 'analysis']);
    rules.push(...found);
    analysisNote(ctx, [...base, 'analysis'], 'background analysis', found);
    if (rollout.use([...base, 'analysis', 'startingStep']) !== undefined) {
      rollout.note(
        'changed',
        [...base, 'analysis', 'startingStep'],
        'Sluice watches the contract from the first step, not from this one',
      );
    }
  }
  const steps: PendingStep[] = [];
  let highest = 0;
  (Array.isArray(canary.steps) ? canary.steps : []).forEach((step: unknown, i) => {
    if (!isRaw(step)) return;
    // A step holds one action; one holding two (apisix's example) is read as two steps in order.
    for (const [kind, value] of Object.entries(step)) {
      const at: Path = [...base, 'steps', i, kind];
      const next = importStep(ctx, kind, value, at, highest);
      if (next === null) continue;
      if (next.weight !== undefined) highest = next.weight;
      rules.push(...next.rules);
      steps.push(next.step);
    }
  });
  if (steps.length === 0) {
    const none =
      Array.isArray(canary.steps) && canary.steps.length > 0
        ? 'no step carried over'
        : 'no steps (Argo goes to 100% at once)';
    rollout.note('added', [...base, 'steps'], `${none}: imported as one step, setWeight: 100`);
    steps.push({ setWeight: 100 });
  }
  return { strategy: { canary: { steps } }, rules };
}

/** One canary step's action at `at` (…steps[i].kind), or null when it does not carry over (noted). */
function importStep(
  ctx: AnalysisContext,
  kind: string,
  value: unknown,
  at: Path,
  highest: number,
): { step: PendingStep; rules: ImportedRule[]; weight?: number } | null {
  const { rollout } = ctx;
  const drop = (message: string) => {
    rollout.note('dropped', at, message);
    return null;
  };
  if ((kind === 'analysis' || kind === 'experiment') && !isRaw(value))
    return drop(`${kind}: expected a map, got ${JSON.stringify(value)}`);
  if (kind === 'setWeight') {
    const weight = typeof value === 'number' ? value : Number.NaN;
    if (!(weight >= 0 && weight <= 100)) return drop(`setWeight ${JSON.stringify(value)} is not a percentage 0..100`);
    if (weight < highest)
      return drop(
        `setWeight ${weight} after ${highest}: Sluice never lowers the new version's weight within a release (a rollback does)`,
      );
    rollout.use(at);
    return { step: { setWeight: weight }, rules: [], weight };
  }
  if (kind === 'pause') {
    const duration = isRaw(value) ? value.duration : undefined;
    if (duration === undefined) {
      rollout.use(at);
      return { step: { pause: {} }, rules: [] };
    }
    const ms = parsePauseDuration(duration);
    if (ms === null)
      return drop(`pause duration ${JSON.stringify(duration)} is neither seconds nor a duration such as 30s or 1h`);
    rollout.use(at);
    return { step: { pause: { duration: formatDuration(ms) } }, rules: [] };
  }
  if (kind === 'analysis') {
    if (parseInteger(isRaw(value) ? value.count : undefined) === 0)
      return drop('count 0: Argo does not run this analysis step');
    const found = importAnalysis(ctx, at);
    const step =
      found.length === 0
        ? '; the step is imported as pause: {} (a person decides, as the analysis would have)'
        : '; the step is imported as a pause as long as Argo measured, and the next step starts only when every rule passes';
    analysisNote(ctx, at, 'analysis step', found, step);
    return { step: waitFor(found), rules: found };
  }
  if (kind === 'experiment') return importExperiment(ctx, at);
  if (kind === 'setHeaderRoute') {
    const route = importHeaderRoute(ctx, at);
    return route === null ? null : { step: { setHeaderRoute: route }, rules: [] };
  }
  const why: Record<string, string> = {
    setCanaryScale: 'Sluice runs the same instances for every weight (spec.target.instances)',
    setMirrorRoute: 'Sluice does not mirror traffic',
    replicaProgressThreshold: 'Sluice starts every instance of the new version before it takes traffic',
    plugin: 'a step plugin: no Sluice equivalent',
  };
  return drop(`${kind}: ${why[kind] ?? 'no Sluice step of this kind'}`);
}

/**
 * The step that waited for an analysis: a timed pause as long as Argo measured (the contract's
 * rules must Pass before the next step), or a pause for a person when nothing measurable carried over.
 */
function waitFor(rules: ImportedRule[], experimentMs?: number): PendingStep {
  if (experimentMs !== undefined) return { pause: { duration: formatDuration(experimentMs) } };
  if (rules.length === 0) return { pause: {} };
  return (intervalMs: number) => {
    const ms = measuredFor(rules, intervalMs);
    return ms === undefined ? { pause: {} } : { pause: { duration: formatDuration(Math.max(ms, intervalMs)) } };
  };
}

/** Baseline vs canary: Sluice measures the stable version beside the canary in every release, at the same time. */
function importExperiment(ctx: AnalysisContext, path: Path): { rules: ImportedRule[]; step: PendingStep } {
  const { rollout } = ctx;
  const exp = rollout.peek<Raw>(path) ?? {};
  const values = new Map<string, ArgValue>();
  const templates = Array.isArray(exp.templates) ? exp.templates : [];
  templates.forEach((t: unknown, i) => {
    if (!isRaw(t) || typeof t.name !== 'string') return;
    const at: Path = [...path, 'templates', i];
    rollout.use([...at, 'name']);
    rollout.use([...at, 'specRef']);
    const ref =
      t.specRef === 'canary'
        ? 'the new version'
        : t.specRef === 'stable'
          ? 'the stable version'
          : `specRef ${String(t.specRef)}`;
    values.set(
      `templates.${t.name}.podTemplateHash`,
      t.specRef === 'canary'
        ? { text: '${version}' }
        : {
            refused: `${t.name} is ${ref}; Sluice runs a query once per version with \${version}: compare with failIf: { above: baseline, … } instead`,
          },
    );
    for (const key of Object.keys(t)) {
      if (key === 'name' || key === 'specRef') continue;
      const why =
        key === 'weight'
          ? "Sluice sends no traffic share to an experiment's own instances"
          : 'an experiment runs no instances of its own in Sluice';
      rollout.note('dropped', [...at, key], `${key}: ${why}`);
    }
  });
  rollout.note(
    'changed',
    [...path, 'templates'],
    `baseline vs canary: Sluice measures the stable version (the baseline) beside the new one in every release, at the same time and over the same window; rules compare them with failIf: { above: baseline, … }. It starts no separate baseline and canary instances (templates: ${templates.map((t) => (isRaw(t) ? String(t.name) : '?')).join(', ')})`,
  );
  const rules: ImportedRule[] = [];
  (Array.isArray(exp.analyses) ? exp.analyses : []).forEach((a: unknown, i) => {
    if (!isRaw(a)) return;
    const at: Path = [...path, 'analyses', i];
    rollout.use([...at, 'name']);
    if (a.requiredForCompletion !== undefined) rollout.use([...at, 'requiredForCompletion']);
    const found = importAnalysis(ctx, at, values);
    rules.push(...found);
    analysisNote(ctx, at, `experiment analysis ${String(a.name)}`, found);
  });
  let durationMs: number | undefined;
  if (exp.duration !== undefined) {
    const ms = parsePauseDuration(exp.duration);
    if (ms === null)
      rollout.note('dropped', [...path, 'duration'], `${JSON.stringify(exp.duration)} is not a duration such as 1h`);
    else {
      rollout.use([...path, 'duration']);
      durationMs = ms;
    }
  }
  if (durationMs === undefined && rules.length === 0) {
    rollout.note(
      'changed',
      path,
      'an experiment without a duration or an analysis that carried over: imported as pause: {} (wait for sluice promote)',
    );
  }
  return { rules, step: waitFor(rules, durationMs) };
}

/** `{ name, match: [{ headerName, headerValue: { exact } }] }` → `{ header, value }`; no match clears the route. */
function importHeaderRoute(ctx: AnalysisContext, path: Path): Raw | null {
  const { rollout } = ctx;
  const route = rollout.peek<Raw>(path) ?? {};
  rollout.use([...path, 'name']);
  const match = Array.isArray(route.match) ? route.match : [];
  if (match.length === 0) {
    rollout.use([...path, 'match']);
    return {};
  }
  const first = isRaw(match[0]) ? match[0] : {};
  const value = isRaw(first.headerValue) ? first.headerValue : {};
  if (typeof first.headerName !== 'string' || typeof value.exact !== 'string') {
    const kind = Object.keys(value).join(', ') || 'no value';
    rollout.note(
      'dropped',
      path,
      `a header route matching by ${kind}: Sluice's routes match one header value exactly ({ header, value })`,
    );
    return null;
  }
  rollout.use([...path, 'match', 0, 'headerName']);
  rollout.use([...path, 'match', 0, 'headerValue', 'exact']);
  match
    .slice(1)
    .forEach((_, i) =>
      rollout.note(
        'dropped',
        [...path, 'match', i + 1],
        'Sluice routes one header (or cookie) per route; the first match is kept',
      ),
    );
  rollout.note(
    'changed',
    path,
    `the route is Sluice's router's, not the traffic router's (Argo needs trafficRouting.managedRoutes); requests with ${first.headerName}: ${value.exact} go to the new version`,
  );
  return { header: first.headerName, value: value.exact };
}

function importBlueGreen(ctx: AnalysisContext, bg: Raw): ImportedStrategy {
  const { rollout } = ctx;
  const base: Path = ['spec', 'strategy', 'blueGreen'];
  const rules: ImportedRule[] = [];
  const out: Raw = { previewHeader: { ...PREVIEW_HEADER } };
  rollout.use([...base, 'previewService']);
  rollout.note(
    'added',
    bg.previewService !== undefined ? [...base, 'previewService'] : base,
    `previewHeader ${PREVIEW_HEADER.name}: ${PREVIEW_HEADER.value}: before the switch, requests carrying it reach the new version through Sluice's router (Argo previews through a Kubernetes Service)`,
  );
  if (bg.activeService !== undefined)
    rollout.note(
      'dropped',
      [...base, 'activeService'],
      "a Kubernetes Service: Sluice's router (spec.router) serves the active version",
    );
  if (isRaw(bg.prePromotionAnalysis)) {
    const found = importAnalysis(ctx, [...base, 'prePromotionAnalysis']);
    rules.push(...found);
    analysisNote(ctx, [...base, 'prePromotionAnalysis'], 'pre-promotion analysis', found);
    out.prePromotionAnalysis = true;
  }
  const enabled = bg.autoPromotionEnabled;
  rollout.use([...base, 'autoPromotionEnabled']);
  const seconds = parseInteger(bg.autoPromotionSeconds);
  if (enabled === false) {
    out.autoPromotion = false;
    if (bg.autoPromotionSeconds !== undefined)
      rollout.note(
        'dropped',
        [...base, 'autoPromotionSeconds'],
        'autoPromotionEnabled: false waits for a person; the seconds do not apply',
      );
  } else if (seconds !== null && seconds > 0) {
    rollout.use([...base, 'autoPromotionSeconds']);
    out.autoPromotion = { after: formatDuration(seconds * 1000) };
  } else out.autoPromotion = true;
  let post: ImportedRule[] | null = null;
  if (isRaw(bg.postPromotionAnalysis)) {
    post = importAnalysis(ctx, [...base, 'postPromotionAnalysis']);
    rules.push(...post);
    analysisNote(ctx, [...base, 'postPromotionAnalysis'], 'post-promotion analysis', post);
  }
  const delay = parseInteger(bg.scaleDownDelaySeconds);
  if (delay !== null && delay >= 0) {
    rollout.use([...base, 'scaleDownDelaySeconds']);
    out.scaleDownDelay = formatDuration(delay * 1000);
  }
  const postRules = post;
  const blueGreen =
    postRules === null
      ? out
      : (intervalMs: number) => {
          const ms = measuredFor(postRules, intervalMs);
          if (ms === undefined) {
            rollout.note(
              'changed',
              [...base, 'postPromotionAnalysis'],
              'its metrics run until stopped; Sluice watches the new active version after the switch for 10 minutes (postPromotionAnalysis: 10m), then completes',
            );
          }
          return { ...out, postPromotionAnalysis: formatDuration(Math.max(ms ?? 600_000, intervalMs)) };
        };
  return { strategy: { blueGreen }, rules };
}
