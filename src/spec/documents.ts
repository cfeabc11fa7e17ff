/**
 * The documents one `sluice apply` carries, each read once and validated by its kind into a typed
 * union: a Service, a Service with environments, a ReleasePolicy, and the kinds to come. The
 * engine dispatches on `kind` in one place (engine/apply-entry.ts). Plain data only, so the
 * parse can run in a worker.
 */
import type { Document } from 'yaml';
import type { TrainSpec } from '../core/trains/index.ts';
import type { FeatureFlag, Segment } from '../core/flags/model.ts';
import { featureFlagSchema, segmentSchema } from './flag-schema.ts';
import { releasePolicySchema, type ReleasePolicy } from './release-policy-schema.ts';
import { releaseTrainSchema, trainOf } from './release-train-schema.ts';
import { composeDocuments, duplicateNames, toSpecIssue } from './parse.ts';
import { serviceSchema, specErrorMap, type DriverSchemas, type ServiceSpec } from './service-schema.ts';
import { SpecError } from './spec-error.ts';
import { positionOf } from './yaml-position.ts';

type Raw = Record<string, unknown>;

/** One applied document, by what it is. `raw` is the document as written (what governance stores and diffs). */
export type SpecDocument =
  | { kind: 'Service'; spec: ServiceSpec; raw: Raw; at?: DocumentPositions }
  | { kind: 'ServiceWithEnvironments'; spec: ServiceSpec; raw: Raw; at?: DocumentPositions }
  | { kind: 'ReleasePolicy'; policy: ReleasePolicy; raw: Raw }
  | { kind: 'ReleaseTrain'; train: TrainSpec; raw: Raw; at: DocumentPositions }
  | { kind: 'FeatureFlag'; flag: FeatureFlag; raw: Raw }
  | { kind: 'Segment'; segment: Segment; raw: Raw };

/** Where fields checked after the parse (against the server) are written: `spec.dependsOn.0` → line and column. */
export type DocumentPositions = Record<string, { file: string; line: number; column: number }>;

/** The `kind:` values this server applies. */
export const APPLIED_KINDS = ['Service', 'ReleasePolicy', 'ReleaseTrain', 'FeatureFlag', 'Segment'] as const;
/** Kinds that are planned (docs/architecture.md) but not applied by this server yet. */
export const PLANNED_KINDS = ['GameDay'] as const;

/** Parse `text` once and validate each document by its kind; a SpecError lists every problem with file:line:col. */
export function readDocuments(text: string, file: string, drivers: DriverSchemas): SpecDocument[] {
  const { lineCounter, documents: composed, issues, count: documents } = composeDocuments(text, file);
  const services = serviceSchema(drivers);
  const read: { doc: SpecDocument; parsed: Document.Parsed }[] = [];
  const at = (doc: Document.Parsed, path: (string | number)[]) => ({ file, ...positionOf(doc, lineCounter, path) });

  for (const { doc: parsed, value } of composed) {
    const kind = typeof value === 'object' && !Array.isArray(value) ? (value as Raw).kind : undefined;
    if (kind === 'ReleasePolicy') {
      const r = releasePolicySchema.safeParse(value, { error: specErrorMap });
      if (!r.success) issues.push(...r.error.issues.map((i) => toSpecIssue(i, parsed, lineCounter, file)));
      else
        read.push({
          parsed,
          doc: {
            kind: 'ReleasePolicy',
            raw: value as Raw,
            policy: { name: r.data.metadata.name, windows: r.data.spec.windows, freezes: r.data.spec.freezes },
          },
        });
      continue;
    }
    if (kind === 'ReleaseTrain') {
      const r = releaseTrainSchema.safeParse(value, { error: specErrorMap });
      if (!r.success) issues.push(...r.error.issues.map((i) => toSpecIssue(i, parsed, lineCounter, file)));
      else
        read.push({
          parsed,
          doc: {
            kind: 'ReleaseTrain',
            raw: value as Raw,
            train: trainOf(r.data),
            at: Object.fromEntries([
              ...r.data.spec.services.map((_, i) => [`spec.services.${i}`, at(parsed, ['spec', 'services', i])]),
              ...(r.data.spec.window === undefined
                ? []
                : [['spec.window.policy', at(parsed, ['spec', 'window', 'policy'])]]),
            ]),
          },
        });
      continue;
    }
    if (kind === 'FeatureFlag' || kind === 'Segment') {
      const r =
        kind === 'FeatureFlag'
          ? featureFlagSchema.safeParse(value, { error: specErrorMap })
          : segmentSchema.safeParse(value, { error: specErrorMap });
      if (!r.success) issues.push(...r.error.issues.map((i) => toSpecIssue(i, parsed, lineCounter, file)));
      else if ('variants' in r.data)
        read.push({ parsed, doc: { kind: 'FeatureFlag', raw: value as Raw, flag: r.data } });
      else read.push({ parsed, doc: { kind: 'Segment', raw: value as Raw, segment: r.data } });
      continue;
    }
    if ((PLANNED_KINDS as readonly unknown[]).includes(kind)) {
      const hint =
        kind === 'GameDay'
          ? '; a GameDay is run or scheduled, not applied: sluice gameday run -f FILE, or sluice gameday schedule -f FILE'
          : '';
      issues.push({
        ...at(parsed, ['kind']),
        path: 'kind',
        message: `kind ${String(kind)} is not applied by this server yet; it applies ${APPLIED_KINDS.join(', ')}${hint}`,
      });
      continue;
    }
    // Anything else is read as a Service: its schema names a wrong or missing kind.
    const r = services.safeParse(value, { error: specErrorMap });
    if (!r.success) {
      issues.push(...r.error.issues.map((i) => toSpecIssue(i, parsed, lineCounter, file)));
      continue;
    }
    const kindOf = r.data.spec.environments === undefined ? 'Service' : 'ServiceWithEnvironments';
    const deps = (r.data.spec.dependsOn ?? []).map(
      (_, i) => [`spec.dependsOn.${i}`, at(parsed, ['spec', 'dependsOn', i])] as const,
    );
    read.push({
      parsed,
      doc: { kind: kindOf, spec: r.data, raw: value as Raw, ...(deps.length > 0 && { at: Object.fromEntries(deps) }) },
    });
  }

  if (documents === 0) {
    issues.push({
      file,
      line: 1,
      column: 1,
      path: '',
      message: `no document found; expected apiVersion: sluice.dev/v1alpha1 and kind: ${APPLIED_KINDS.join(' or ')}`,
    });
  }
  const services_ = read
    .filter((r) => r.doc.kind === 'Service' || r.doc.kind === 'ServiceWithEnvironments')
    .map((r) => ({ spec: (r.doc as { spec: ServiceSpec }).spec, doc: r.parsed }));
  issues.push(...duplicateNames(services_, lineCounter, file));
  if (read.filter((r) => r.doc.kind === 'ReleasePolicy').length > 1) {
    const second = read.filter((r) => r.doc.kind === 'ReleasePolicy')[1]!;
    issues.push({
      ...at(second.parsed, ['kind']),
      path: 'kind',
      message: 'one ReleasePolicy per apply: the server keeps one policy, and a second would replace the first',
    });
  }
  if (issues.length > 0) throw new SpecError(issues.sort((a, b) => a.line - b.line || a.column - b.column));
  return read.map((r) => r.doc);
}
