/**
 * A submitted spec text read in one pass: limits checked, YAML composed once, then validated as
 * a ReleasePolicy (when a document says `kind: ReleasePolicy`) or as Service documents. Runs in
 * the parse worker (spec-parser.ts), so it returns plain data or a plain failure, never throws.
 */
import type { ReleasePolicy } from './release-policy-schema.ts';
import { readDocuments, type SpecDocument } from './documents.ts';
import type { DriverSchemas, ServiceSpec } from './service-schema.ts';
import { SpecError, type SpecIssue } from './spec-error.ts';
import { checkSpecLimits, SpecLimitError, type SpecLimits } from './spec-limits.ts';

export interface SpecText {
  file: string;
  /** The text's documents, each validated by its kind (documents.ts): what apply dispatches. */
  documents: SpecDocument[];
  /** Its Service documents (with or without environments), validated. */
  services: ServiceSpec[];
  /** A text with a `kind: ReleasePolicy` document is a policy: validated as one, or why not. */
  policy?: { ok: true; policy: ReleasePolicy } | { ok: false; message: string };
}

/** What the worker answers: the text read, or why it could not be (plain data: it crosses threads). */
export type SpecTextAnswer =
  | { ok: true; text: SpecText }
  | { ok: false; kind: 'invalid'; issues: SpecIssue[] }
  | {
      ok: false;
      kind: 'limit';
      file: string;
      limit: SpecLimitError['limit'];
      given: number;
      max: number;
      message: string;
    };

export function readSpecText(text: string, file: string, drivers: DriverSchemas, limits?: SpecLimits): SpecTextAnswer {
  try {
    checkSpecLimits(text, file, limits);
    const documents = readDocuments(text, file, drivers);
    const services = documents.flatMap((d) =>
      d.kind === 'Service' || d.kind === 'ServiceWithEnvironments' ? [d.spec] : [],
    );
    const policy = documents.find((d) => d.kind === 'ReleasePolicy');
    return {
      ok: true,
      text: { file, documents, services, ...(policy && { policy: { ok: true, policy: policy.policy } }) },
    };
  } catch (err) {
    if (err instanceof SpecLimitError)
      return { ok: false, kind: 'limit', file, limit: err.limit, given: err.given, max: err.max, message: err.message };
    if (err instanceof SpecError) return { ok: false, kind: 'invalid', issues: err.issues };
    // A stack overflow or the like on a hostile text: still a problem in this file, not a crash.
    return {
      ok: false,
      kind: 'invalid',
      issues: [{ file, line: 1, column: 1, path: '', message: `cannot read this text: ${(err as Error).message}` }],
    };
  }
}
