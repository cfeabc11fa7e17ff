/**
 * `${version}`-style placeholders in a service's target template. The template is kept raw in
 * the spec and interpolated once per revision, so its hash says when a new release is needed.
 */
import { createHash } from 'node:crypto';
import { formatPath } from './spec-error.ts';

/** `${name}`, or `$${name}` for a literal `${name}` (e.g. a shell variable in a command). */
const PLACEHOLDER = /\$(\$?)\{([^}]*)\}/g;

export interface UnknownPlaceholder {
  /** Where the string holding it sits, relative to the interpolated value. */
  path: (string | number)[];
  name: string;
}

export class UnknownPlaceholderError extends Error {
  readonly code = 'SPEC_UNKNOWN_PLACEHOLDER';
  readonly placeholders: UnknownPlaceholder[];
  /** The names that would have been valid. */
  readonly known: string[];

  constructor(placeholders: UnknownPlaceholder[], known: string[]) {
    const where = placeholders.map((p) => `\${${p.name}} at ${formatPath(p.path) || '(value)'}`).join(', ');
    super(`unknown placeholder ${where}; valid placeholders: ${listPlaceholders(known)}`);
    this.name = 'UnknownPlaceholderError';
    this.placeholders = placeholders;
    this.known = known;
  }
}

export function listPlaceholders(names: string[]): string {
  return names.map((name) => `\${${name}}`).join(', ');
}

/**
 * Replaces `${name}` in every string inside `value` (arrays and plain objects, recursively; keys
 * are left alone). Throws UnknownPlaceholderError listing every placeholder not in `vars`.
 */
export function interpolate<T>(value: T, vars: Record<string, string>): T {
  const unknown: UnknownPlaceholder[] = [];
  const result = substitute(value, vars, [], unknown);
  if (unknown.length > 0) throw new UnknownPlaceholderError(unknown, Object.keys(vars));
  return result as T;
}

function substitute(
  value: unknown,
  vars: Record<string, string>,
  path: (string | number)[],
  unknown: UnknownPlaceholder[],
): unknown {
  if (typeof value === 'string') {
    return value.replace(PLACEHOLDER, (whole: string, escaped: string, name: string) => {
      if (escaped) return whole.slice(1);
      const replacement = Object.hasOwn(vars, name) ? vars[name] : undefined;
      if (replacement !== undefined) return replacement;
      unknown.push({ path, name });
      return whole;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => substitute(item, vars, [...path, i], unknown));
  if (isPlainObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substitute(item, vars, [...path, key], unknown)]),
    );
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The part of a ServiceSpec a release deploys (declared here, not imported: service-schema.ts imports this file). */
interface Deployed {
  spec: { version: string; target: unknown };
}

/** What a release deploys: changing any of it starts a new release. */
export function templateOf(spec: Deployed): { version: string; target: unknown } {
  return { version: spec.spec.version, target: spec.spec.target };
}

/** sha256 (hex) of the template as canonical JSON, so key order in the YAML does not matter. */
export function templateHash(spec: Deployed): string {
  return createHash('sha256')
    .update(canonicalJson(templateOf(spec)))
    .digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
