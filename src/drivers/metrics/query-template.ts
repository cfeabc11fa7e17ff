/**
 * Query rules name their version, service and window with placeholders:
 * `rate(http_requests_total{version="${version}"}[${window}])`. The engine fills them just
 * before it asks a provider, once for the canary and once for the baseline. Pure.
 */

export const QUERY_PLACEHOLDERS = ['version', 'service', 'window'] as const;
export type QueryPlaceholder = (typeof QUERY_PLACEHOLDERS)[number];

export interface QueryValues {
  version: string;
  service: string;
  windowMs: number;
}

/** `${name}`, or `$${name}` for a literal `${name}` (same convention as the target template). */
const PLACEHOLDER = /\$(\$?)\{([^}]*)\}/g;

const UNITS: ReadonlyArray<[string, number]> = [
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** Milliseconds as a Prometheus duration: 30000 → "30s", 120000 → "2m", 1500 → "1500ms". */
export function promDuration(ms: number): string {
  const whole = Math.max(1, Math.round(ms));
  for (const [unit, size] of UNITS) if (whole % size === 0) return `${whole / size}${unit}`;
  return `${whole}ms`;
}

/** The placeholders of `template` that are not version, service or window (for the spec's checks). */
export function unknownPlaceholders(template: string): string[] {
  const unknown: string[] = [];
  for (const [, literal, name = ''] of template.matchAll(PLACEHOLDER)) {
    if (literal === '' && !(QUERY_PLACEHOLDERS as readonly string[]).includes(name)) unknown.push(name);
  }
  return unknown;
}

/**
 * Fills `${version}`, `${service}` and `${window}`. `escape` is applied to version and service
 * (e.g. `escapePromqlString` when they sit inside a PromQL "..." label value, `encodeURIComponent`
 * inside a URL); the window needs none. Throws on an unknown placeholder, naming the valid ones.
 */
export function fillQuery(template: string, values: QueryValues, escape: (value: string) => string = (v) => v): string {
  const unknown = unknownPlaceholders(template);
  if (unknown.length > 0) {
    const valid = QUERY_PLACEHOLDERS.map((n) => `\${${n}}`).join(', ');
    throw new Error(
      `query "${template}": unknown placeholder ${unknown.map((n) => `\${${n}}`).join(', ')}; valid: ${valid}`,
    );
  }
  const filled: Record<QueryPlaceholder, string> = {
    version: escape(values.version),
    service: escape(values.service),
    window: promDuration(values.windowMs),
  };
  return template.replace(PLACEHOLDER, (_whole, literal: string, name: string) =>
    literal === '$' ? `\${${name}}` : filled[name as QueryPlaceholder],
  );
}

/** Escapes a value for use inside a double-quoted PromQL string (label matcher). */
export function escapePromqlString(value: string): string {
  return value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');
}
