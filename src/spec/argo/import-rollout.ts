/**
 * `sluice import argo`: one Argo Rollout and its AnalysisTemplates as one Sluice Service document,
 * plus the notes of what did not carry over (each with its file and line). Pure: takes the
 * documents read by read-argo.ts and the flags, returns plain data.
 */
import { formatDuration } from '../../core/units.ts';
import { API_VERSION } from '../service-schema.ts';
import { SpecError } from '../spec-error.ts';
import { MissingTemplateError, type AnalysisContext } from './argo-analysis.ts';
import type { ImportedRule } from './argo-metric.ts';
import { isRaw, SourceMarks, type Path, type Raw } from './argo-source.ts';
import { importStrategy, type PendingStep } from './argo-strategy.ts';
import { importTarget } from './argo-target.ts';
import type { ArgoImportOptions, ImportNote } from './import-report.ts';
import type { ArgoFiles } from './read-argo.ts';

export interface ArgoImport {
  /** The Sluice Service document, as a person would write it. */
  service: Raw;
  notes: ImportNote[];
}

/** Why a field that nothing read did not carry over, by its path in the Rollout. */
const ROLLOUT_FIELDS: [RegExp, string][] = [
  [/^metadata\.namespace$/, 'Sluice services have no namespace'],
  [/^metadata\.annotations/, 'annotations have no Sluice meaning'],
  [/^spec\.selector$/, "a Kubernetes label selector: Sluice knows each version's instances itself"],
  [/^spec\.template\.metadata$/, 'pod labels and annotations'],
  [/^spec\.revisionHistoryLimit$/, 'Sluice keeps every revision in its event log'],
  [/^spec\.workloadRef$/, "a reference to a Deployment's pod template: Sluice runs --target-command"],
  [
    /^spec\.strategy\.canary\.trafficRouting$/,
    "a traffic router-specific route (Istio, NGINX Ingress, SMI, ALB …): Sluice's own router splits the traffic (spec.router)",
  ],
  [
    /^spec\.strategy\.canary\.(canaryService|stableService)$/,
    "a Kubernetes Service: Sluice's router sends each version its share",
  ],
  [
    /^spec\.strategy\.(canary|blueGreen)\.(maxSurge|maxUnavailable)$/,
    'replica-count rollout: Sluice starts every instance of the new version before it takes traffic',
  ],
  [/^spec\.strategy\.blueGreen\.previewReplicaCount$/, 'the preview runs spec.target.instances instances'],
  [
    /^spec\.strategy\.(canary|blueGreen)\.(antiAffinity|canaryMetadata|stableMetadata|activeMetadata|previewMetadata)$/,
    'Kubernetes scheduling and pod metadata',
  ],
  [
    /^spec\.strategy\.(canary|blueGreen)\.(abortScaleDownDelaySeconds|scaleDownDelayRevisionLimit|dynamicStableScale)$/,
    "Sluice stops the new version's instances once traffic is back on stable",
  ],
  [
    /^spec\.template\.spec\.containers\[0\]\.readinessProbe/,
    'Sluice probes each instance over HTTP on the port it chose; only httpGet.path carries over',
  ],
  [
    /^spec\.template\.spec\.containers\[0\]\.(imagePullPolicy|resources|livenessProbe|startupProbe|volumeMounts|securityContext)/,
    'a container setting: --target-command runs a local process',
  ],
];

function why(path: Path): string {
  const text = path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
    .join('')
    .replace(/^\./, '');
  return ROLLOUT_FIELDS.find(([re]) => re.test(text))?.[1] ?? 'no Sluice equivalent';
}

/** Sluice's name rule: a DNS label, lowercase, starting with a letter. */
function serviceName(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 63);
  return cleaned === '' ? 'imported' : cleaned;
}

export function importRollout(files: ArgoFiles, options: ArgoImportOptions): ArgoImport {
  const notes: ImportNote[] = [...files.notes];
  const rollouts = files.documents.filter((d) => d.kind === 'Rollout');
  if (rollouts.length !== 1) {
    const found = rollouts.map((r) => `${r.name} (${r.file}:${r.at(['kind']).line})`).join(', ');
    const first = rollouts[1] ?? files.documents[0];
    const where = first === undefined ? { file: '', line: 1, column: 1 } : { file: first.file, ...first.at(['kind']) };
    throw new SpecError([
      {
        ...where,
        path: 'kind',
        message:
          rollouts.length === 0
            ? 'no Rollout in the files given; sluice import argo imports one Rollout with its AnalysisTemplates'
            : `one Rollout per import; found ${found}`,
      },
    ]);
  }
  const rolloutDoc = rollouts[0]!;
  const rollout = new SourceMarks(rolloutDoc, notes);
  const templates = new Map<string, SourceMarks>();
  for (const doc of files.documents)
    if (doc !== rolloutDoc) templates.set(`${doc.kind}/${doc.name}`, new SourceMarks(doc, notes));
  const ctx: AnalysisContext = { rollout, templates, read: new Set() };
  for (const key of ['apiVersion', 'kind', 'metadata.name']) rollout.use(key.split('.'));

  const name = serviceName(rolloutDoc.name);
  if (name !== rolloutDoc.name)
    rollout.note(
      'changed',
      ['metadata', 'name'],
      `the Sluice service is named ${name} (a DNS label: lowercase letters, digits and dashes, starting with a letter)`,
    );
  const target = importTarget(rollout, options);
  let imported;
  try {
    imported = importStrategy(ctx);
  } catch (error) {
    if (!(error instanceof MissingTemplateError)) throw error;
    throw new SpecError([
      { file: rolloutDoc.file, ...rolloutDoc.at(error.path), path: formatPath(error.path), message: error.message },
    ]);
  }
  const { metrics, contract } = importContract(rollout, imported.rules);

  const strategy = imported.strategy;
  const intervalMs = contract.intervalMs;
  const resolve = (step: PendingStep) => (typeof step === 'function' ? step(intervalMs) : step);
  const spec: Raw = {
    version: target.version,
    target: target.target,
    router: { driver: 'builtin', listen: options.listen },
    ...(metrics === undefined ? {} : { metrics }),
    strategy:
      'canary' in strategy
        ? { canary: { steps: strategy.canary.steps.map(resolve) } }
        : { blueGreen: resolve(strategy.blueGreen) },
    rollbackContract: contract.raw,
  };
  const labels = rollout.peek(['metadata', 'labels']);
  const metadata: Raw = { name };
  if (isRaw(labels) && Object.values(labels).every((v) => typeof v === 'string')) {
    rollout.use(['metadata', 'labels']);
    metadata.labels = labels;
  }

  rollout.reportUnmarked([], why);
  for (const template of templates.values()) {
    if (ctx.read.has(template)) template.reportUnmarked([], () => 'no Sluice equivalent');
    else
      template.note(
        'dropped',
        ['metadata', 'name'],
        `${template.doc.kind} ${template.doc.name} is not referenced by the Rollout: not imported`,
      );
  }
  return { service: { apiVersion: API_VERSION, kind: 'Service', metadata, spec }, notes };
}

function mostCommon(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
}

function formatPath(path: Path): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
    .join('')
    .replace(/^\./, '');
}

/**
 * The rollback contract from the imported rules: one metrics provider (the one most rules use;
 * the others' rules are reported), the shortest interval, Argo's error and inconclusive limits.
 * Without any rule, the built-in proxy's error rate against the baseline, reported as added.
 */
function importContract(
  rollout: SourceMarks,
  rules: ImportedRule[],
): { metrics?: Raw; contract: { raw: Raw; intervalMs: number } } {
  if (rules.length === 0) {
    rollout.note(
      'added',
      ['spec', 'strategy'],
      'no Prometheus or web metric carried over, and Sluice needs a rollback contract: rules: [{ metric: error_rate, failIf: { above: baseline, by: 0.01 } }], measured by the built-in proxy (the canary fails at 1 point more 5xx than stable)',
    );
    return {
      contract: {
        raw: { rules: [{ metric: 'error_rate', failIf: { above: 'baseline', by: 0.01 } }] },
        intervalMs: 1000,
      },
    };
  }
  const bySource = new Map<string, ImportedRule[]>();
  // Web queries are absolute URLs, so one web provider reads every host; Prometheus has one address.
  for (const r of rules) {
    const key = r.source.provider === 'web' ? 'web' : `${r.source.provider} ${r.source.address}`;
    bySource.set(key, [...(bySource.get(key) ?? []), r]);
  }
  const [chosenKey, chosen] = [...bySource.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
  for (const [key, other] of bySource) {
    if (key === chosenKey) continue;
    for (const r of other)
      r.from.marks.note(
        'dropped',
        r.from.path,
        `metric ${String(r.rule.name)} needs ${key}; a Sluice service has one metrics provider, here ${chosenKey}`,
      );
  }
  // Unique names: a template imported twice with other args, or two templates with one metric name.
  const seen = new Map<string, number>();
  const unique: ImportedRule[] = [];
  for (const r of chosen) {
    const same = unique.find((u) => JSON.stringify(u.rule) === JSON.stringify(r.rule));
    if (same !== undefined) continue;
    const base = String(r.rule.name);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    unique.push(n === 1 ? r : { ...r, rule: { ...r.rule, name: `${base}-${n}` } });
  }
  const intervals = unique.flatMap((r) => (r.intervalMs === undefined ? [] : [r.intervalMs]));
  const intervalMs = intervals.length === 0 ? 1000 : Math.min(...intervals);
  for (const r of unique) {
    if (r.intervalMs !== undefined && r.intervalMs !== intervalMs) {
      r.from.marks.note(
        'changed',
        [...r.from.path, 'interval'],
        `evaluated every ${formatDuration(intervalMs)} (the contract's interval, the shortest of the imported metrics), not every ${formatDuration(r.intervalMs)}`,
      );
    }
  }
  const raw: Raw = {};
  if (intervals.length > 0) raw.interval = formatDuration(intervalMs);
  const errorLimit = Math.min(...unique.map((r) => r.consecutiveErrorLimit));
  // Argo errors the analysis after more than consecutiveErrorLimit errors in a row, and an errored analysis aborts the rollout.
  raw.metricsErrors = { limit: errorLimit + 1, action: 'rollback' };
  const inconclusive = unique.flatMap((r) => (r.inconclusiveLimit === undefined ? [] : [r]));
  if (inconclusive.length > 0) {
    const limit = Math.min(...inconclusive.map((r) => r.inconclusiveLimit!));
    raw.maxInconclusive = formatDuration((limit + 1) * intervalMs);
    const r = inconclusive[0]!;
    r.from.marks.note(
      'changed',
      [...r.from.path, 'inconclusiveLimit'],
      `Sluice pauses a step that has no Pass for maxInconclusive: ${String(raw.maxInconclusive)} ((inconclusiveLimit + 1) × interval), rather than counting Inconclusive measurements`,
    );
  }
  raw.rules = unique.map((r) => r.rule);
  const source = mostCommon(chosen.map((r) => r.source.address));
  const metrics: Raw = { provider: chosen[0]!.source.provider, address: source };
  const timeouts = unique.flatMap((r) => (r.timeoutMs === undefined ? [] : [r.timeoutMs]));
  if (timeouts.length > 0) metrics.timeout = formatDuration(Math.max(...timeouts));
  const headers: Record<string, string> = {};
  for (const r of unique) {
    if (r.headers !== undefined && r.source.address !== source) {
      r.from.marks.note(
        'dropped',
        [...r.from.path, 'provider', 'web', 'headers'],
        `Sluice sends the provider's headers only to its address (${source}), not to ${r.source.address}`,
      );
      continue;
    }
    for (const [key, value] of Object.entries(r.headers ?? {})) {
      const taken = Object.keys(headers).find((k) => k.toLowerCase() === key.toLowerCase());
      if (taken === undefined) headers[key] = value;
      else if (headers[taken] !== value)
        r.from.marks.note(
          'changed',
          [...r.from.path, 'provider'],
          `header ${key}: ${value} differs from another metric's (${headers[taken]}); the provider sends one set of headers, the first`,
        );
    }
  }
  if (Object.keys(headers).length > 0) metrics.headers = headers;
  return { metrics, contract: { raw, intervalMs } };
}
