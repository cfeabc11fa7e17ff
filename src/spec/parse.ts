/** Reads a YAML file of Service documents into validated specs, or a SpecError listing every problem. */
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { z } from 'zod';
import { serviceSchema, specErrorMap, type DriverSchemas, type ServiceSpec } from './service-schema.ts';
import { formatPath, SpecError, type SpecIssue } from './spec-error.ts';
import { isUnknownFieldIssue } from './strict-object.ts';
import { positionOf } from './yaml-position.ts';

export function parseSpecs(text: string, file: string, drivers: DriverSchemas): ServiceSpec[] {
  const lineCounter = new LineCounter();
  const schema = serviceSchema(drivers);
  const issues: SpecIssue[] = [];
  const parsed: { spec: ServiceSpec; doc: Document.Parsed }[] = [];
  let documents = 0;

  for (const doc of parseAllDocuments(text, { lineCounter, prettyErrors: false })) {
    if (doc.errors.length > 0) {
      documents++;
      for (const error of doc.errors) {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        issues.push({ file, line, column: col, path: '', message: `YAML: ${error.message}` });
      }
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS();
    } catch (error) {
      // e.g. an alias expanding past yaml's limit: still a problem in this file, not a crash.
      const { line, col } = lineCounter.linePos(doc.range[0]);
      issues.push({ file, line, column: col, path: '', message: `YAML: ${(error as Error).message}` });
      continue;
    }
    if (value === null || value === undefined) continue;
    documents++;
    const result = schema.safeParse(value, { error: specErrorMap });
    if (result.success) parsed.push({ spec: result.data, doc });
    else issues.push(...result.error.issues.map((issue) => toSpecIssue(issue, doc, lineCounter, file)));
  }

  if (documents === 0) {
    issues.push({ file, line: 1, column: 1, path: '', message: `no Service document found; expected apiVersion: sluice.dev/v1alpha1, kind: Service` });
  }
  issues.push(...duplicateNames(parsed, lineCounter, file));
  if (issues.length > 0) {
    throw new SpecError(issues.sort((a, b) => a.line - b.line || a.column - b.column));
  }
  return parsed.map(({ spec }) => spec);
}

function toSpecIssue(issue: z.core.$ZodIssue, doc: Document.Parsed, lineCounter: LineCounter, file: string): SpecIssue {
  // zod reports unknown keys on the object; point at the (first) offending key instead.
  const firstKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const path = firstKey === undefined ? issue.path : [...issue.path, firstKey];
  const { line, column } = positionOf(doc, lineCounter, path, isUnknownFieldIssue(issue));
  return { file, line, column, path: formatPath(path), message: issue.message };
}

function duplicateNames(
  parsed: { spec: ServiceSpec; doc: Document.Parsed }[],
  lineCounter: LineCounter,
  file: string,
): SpecIssue[] {
  const firstLine = new Map<string, number>();
  const issues: SpecIssue[] = [];
  for (const { spec, doc } of parsed) {
    const name = spec.metadata.name;
    const { line, column } = positionOf(doc, lineCounter, ['metadata', 'name']);
    const first = firstLine.get(name);
    if (first === undefined) firstLine.set(name, line);
    else issues.push({ file, line, column, path: 'metadata.name', message: `duplicate service name "${name}" (first defined at line ${first})` });
  }
  return issues;
}
