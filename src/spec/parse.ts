/** Reads a YAML file of Service documents into validated specs, or a SpecError listing every problem. */
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { z } from 'zod';
import { serviceSchema, specErrorMap, type DriverSchemas, type ServiceSpec } from './service-schema.ts';
import { formatPath, SpecError, type SpecIssue } from './spec-error.ts';
import { isUnknownFieldIssue } from './strict-object.ts';
import { positionOf } from './yaml-position.ts';

export function parseSpecs(text: string, file: string, drivers: DriverSchemas): ServiceSpec[] {
  return validateServices(composeDocuments(text, file), drivers).services;
}

/** A text's YAML documents, composed once: what the Service and ReleasePolicy readers start from. */
export interface ComposedText {
  file: string;
  lineCounter: LineCounter;
  /** Non-empty documents that are valid YAML, with their plain values. */
  documents: { doc: Document.Parsed; value: unknown }[];
  /** YAML errors; a document with errors is counted as a document but has no value. */
  issues: SpecIssue[];
  /** Documents with errors or a value (empty ones are skipped). */
  count: number;
}

export function composeDocuments(text: string, file: string): ComposedText {
  const lineCounter = new LineCounter();
  const issues: SpecIssue[] = [];
  const documents: ComposedText['documents'] = [];
  let count = 0;
  for (const doc of parseAllDocuments(text, { lineCounter, prettyErrors: false })) {
    if (doc.errors.length > 0) {
      count++;
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
    count++;
    documents.push({ doc, value });
  }
  return { file, lineCounter, documents, issues, count };
}

/**
 * Every document validated as a Service; throws a SpecError listing every problem. `documents`
 * are the plain values the services were read from, in the same order.
 */
export function validateServices(
  c: ComposedText,
  drivers: DriverSchemas,
): { services: ServiceSpec[]; documents: unknown[] } {
  const { file, lineCounter } = c;
  const schema = serviceSchema(drivers);
  const issues: SpecIssue[] = [...c.issues];
  const parsed: { spec: ServiceSpec; doc: Document.Parsed }[] = [];
  for (const { doc, value } of c.documents) {
    const result = schema.safeParse(value, { error: specErrorMap });
    if (result.success) parsed.push({ spec: result.data, doc });
    else issues.push(...result.error.issues.map((issue) => toSpecIssue(issue, doc, lineCounter, file)));
  }

  if (c.count === 0) {
    issues.push({
      file,
      line: 1,
      column: 1,
      path: '',
      message: `no Service document found; expected apiVersion: sluice.dev/v1alpha1, kind: Service`,
    });
  }
  issues.push(...duplicateNames(parsed, lineCounter, file));
  if (issues.length > 0) {
    throw new SpecError(issues.sort((a, b) => a.line - b.line || a.column - b.column));
  }
  return { services: parsed.map(({ spec }) => spec), documents: c.documents.map((d) => d.value) };
}

export function toSpecIssue(
  issue: z.core.$ZodIssue,
  doc: Document.Parsed,
  lineCounter: LineCounter,
  file: string,
): SpecIssue {
  // zod reports unknown keys on the object; point at the (first) offending key instead.
  const firstKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const path = firstKey === undefined ? issue.path : [...issue.path, firstKey];
  const { line, column } = positionOf(doc, lineCounter, path, isUnknownFieldIssue(issue));
  return { file, line, column, path: formatPath(path), message: issue.message };
}

export function duplicateNames(
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
    else
      issues.push({
        file,
        line,
        column,
        path: 'metadata.name',
        message: `duplicate service name "${name}" (first defined at line ${first})`,
      });
  }
  return issues;
}
