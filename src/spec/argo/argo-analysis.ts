/**
 * An analysis reference in a Rollout (background `analysis`, an `analysis` step, blue-green's pre-
 * and post-promotion analysis, an experiment's `analyses`) read into Sluice rules: the templates
 * it names, their args filled with the values the Rollout passes, each metric through
 * importMetric. Sluice has one rollback contract per release, so every analysis adds its rules to it.
 */
import { argValue, fillDeep, fillText, type ArgValue } from './argo-args.ts';
import { importMetric, type ImportedRule } from './argo-metric.ts';
import { isRaw, type Path, type Raw, type SourceMarks } from './argo-source.ts';

export interface AnalysisContext {
  rollout: SourceMarks;
  /** Templates by `AnalysisTemplate/name` and `ClusterAnalysisTemplate/name`. */
  templates: Map<string, SourceMarks>;
  /** Templates read so far (the unread ones are reported as not referenced). */
  read: Set<SourceMarks>;
}

/** A template reference that names no template given: the import cannot go on without it. */
export class MissingTemplateError extends Error {
  readonly path: Path;
  constructor(message: string, path: Path) {
    super(message);
    this.name = 'MissingTemplateError';
    this.path = path;
  }
}

/** The rules of the analysis at `path` in the Rollout; `values` are extra placeholders (an experiment's templates). */
export function importAnalysis(ctx: AnalysisContext, path: Path, values = new Map<string, ArgValue>()): ImportedRule[] {
  const { rollout } = ctx;
  const block = rollout.peek<Raw>(path) ?? {};
  const given = new Map<string, ArgValue>();
  (Array.isArray(block.args) ? block.args : []).forEach((arg: unknown, i) => {
    if (!isRaw(arg) || typeof arg.name !== 'string') return;
    rollout.use([...path, 'args', i]);
    const value = argValue(arg, rollout.doc.value);
    // An experiment passes its templates' hashes: {{templates.canary.podTemplateHash}}.
    const filled = value !== undefined && 'text' in value ? fillText(value.text, values, false) : value;
    if (filled !== undefined) given.set(arg.name, 'text' in filled ? filled : { refused: filled.refused });
  });
  for (const key of ['dryRun', 'measurementRetention', 'analysisRunMetadata']) {
    if (block[key] !== undefined)
      rollout.note(
        'dropped',
        [...path, key],
        `${key}: Sluice keeps every evaluation in its event log, and a rule in the contract always counts`,
      );
  }
  const refs = Array.isArray(block.templates) ? block.templates : block.templateName !== undefined ? [block] : [];
  const refPath = (i: number): Path => (Array.isArray(block.templates) ? [...path, 'templates', i] : path);
  const rules: ImportedRule[] = [];
  refs.forEach((ref: unknown, i) => {
    if (!isRaw(ref)) return;
    rollout.use([...refPath(i), 'templateName']);
    rollout.use([...refPath(i), 'clusterScope']);
    rules.push(...importTemplate(ctx, ref, refPath(i), given, values, new Set()));
  });
  return rules;
}

function importTemplate(
  ctx: AnalysisContext,
  ref: Raw,
  at: Path,
  given: Map<string, ArgValue>,
  values: Map<string, ArgValue>,
  seen: Set<string>,
): ImportedRule[] {
  const kind = ref.clusterScope === true ? 'ClusterAnalysisTemplate' : 'AnalysisTemplate';
  const key = `${kind}/${String(ref.templateName)}`;
  const template = ctx.templates.get(key);
  if (template === undefined) {
    const known = [...ctx.templates.keys()].join(', ') || 'none';
    throw new MissingTemplateError(
      `${kind} ${String(ref.templateName)} is not in the files given; pass it with -f (templates read: ${known})`,
      [...at, 'templateName'],
    );
  }
  if (seen.has(key)) return [];
  seen.add(key);
  ctx.read.add(template);
  template.use(['apiVersion']);
  template.use(['kind']);
  template.use(['metadata', 'name']);

  // The template's declared args and defaults, then the values passed in.
  const args = new Map<string, ArgValue>(values);
  const declared = template.peek<unknown[]>(['spec', 'args']);
  (Array.isArray(declared) ? declared : []).forEach((arg: unknown, i) => {
    if (!isRaw(arg) || typeof arg.name !== 'string') return;
    template.use(['spec', 'args', i]);
    const own = argValue(arg, ctx.rollout.doc.value);
    if (own !== undefined) args.set(`args.${arg.name}`, own);
  });
  for (const [name, value] of given) args.set(`args.${name}`, value);

  const dryRun = template.peek<unknown[]>(['spec', 'dryRun']);
  const dry = (Array.isArray(dryRun) ? dryRun : []).flatMap((d) =>
    isRaw(d) && typeof d.metricName === 'string' ? [d.metricName] : [],
  );
  if (dryRun !== undefined) template.use(['spec', 'dryRun']);
  if (template.peek(['spec', 'measurementRetention']) !== undefined) {
    template.note('dropped', ['spec', 'measurementRetention'], 'Sluice keeps every evaluation in its event log');
  }

  const rules: ImportedRule[] = [];
  const metrics = template.peek<unknown[]>(['spec', 'metrics']);
  (Array.isArray(metrics) ? metrics : []).forEach((metric: unknown, i) => {
    if (!isRaw(metric)) return;
    const path: Path = ['spec', 'metrics', i];
    const name = String(metric.name ?? '');
    if (dry.some((pattern) => matches(pattern, name))) {
      template.note(
        'dropped',
        path,
        `metric ${name} runs in dry-run mode (spec.dryRun): it never decides the rollout in Argo, so it is no rule in Sluice`,
      );
      return;
    }
    const filled = fillDeep(metric, args);
    if ('refused' in filled) {
      template.note('dropped', path, `metric ${name}: ${filled.refused}`);
      return;
    }
    const outcome = importMetric(template, path, filled.value as Raw);
    if ('dropped' in outcome) template.note('dropped', path, outcome.dropped);
    else rules.push(outcome);
  });
  // A template may reference other templates (Argo merges their metrics).
  const nested = template.peek<unknown[]>(['spec', 'templates']);
  (Array.isArray(nested) ? nested : []).forEach((inner: unknown, i) => {
    if (!isRaw(inner)) return;
    template.use(['spec', 'templates', i]);
    rules.push(...importTemplate(ctx, inner, at, given, values, seen));
  });
  return rules;
}

/** Argo's dryRun metricName is a regular expression (`.*`, `test.*`); one that does not compile matches by equality. */
function matches(pattern: string, name: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`).test(name);
  } catch {
    return pattern === name;
  }
}
