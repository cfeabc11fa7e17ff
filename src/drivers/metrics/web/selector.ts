/**
 * A small JSONPath-like selector to one value of a JSON document: `$` followed by `.field`,
 * `[n]` (negative counts from the end: `[-1]` is the last) and `['quoted field']` / `["…"]`.
 * e.g. `$.series[0].points[-1][1]`. Pure; errors say where the selector or the document broke.
 */

export type SelectorStep = { kind: 'field'; name: string } | { kind: 'index'; index: number };

export class SelectorSyntaxError extends Error {
  constructor(selector: string, at: number, what: string) {
    super(`selector ${selector}: ${what} at column ${at + 1}; write e.g. $.data[0].value, $.series[-1]['p95 ms']`);
    this.name = 'SelectorSyntaxError';
  }
}

const FIELD = /^[A-Za-z_$][\w$-]*/;
const PLAIN_FIELD = /^[A-Za-z_$][\w$-]*$/;
const INDEX = /^\[\s*(-?\d+)\s*\]/;
const QUOTED = /^\[\s*(['"])((?:\\.|(?!\1)[^\\])*)\1\s*\]/;

export function parseSelector(selector: string): SelectorStep[] {
  const text = selector.trim();
  if (!text.startsWith('$')) throw new SelectorSyntaxError(text, 0, 'a selector starts with $');
  const steps: SelectorStep[] = [];
  let at = 1;
  while (at < text.length) {
    const rest = text.slice(at);
    let m: RegExpExecArray | null;
    if (rest.startsWith('.')) {
      m = FIELD.exec(rest.slice(1));
      if (!m) throw new SelectorSyntaxError(text, at + 1, 'expected a field name after "."');
      steps.push({ kind: 'field', name: m[0] });
      at += 1 + m[0].length;
    } else if ((m = INDEX.exec(rest))) {
      steps.push({ kind: 'index', index: Number(m[1]) });
      at += m[0].length;
    } else if ((m = QUOTED.exec(rest))) {
      steps.push({ kind: 'field', name: (m[2] ?? '').replace(/\\(.)/g, '$1') });
      at += m[0].length;
    } else {
      throw new SelectorSyntaxError(
        text,
        at,
        `unexpected ${JSON.stringify(rest[0])}: expected .field, [n] or ['field']`,
      );
    }
  }
  return steps;
}

export function formatSteps(steps: SelectorStep[]): string {
  return (
    '$' +
    steps
      .map((s) =>
        s.kind === 'index' ? `[${s.index}]` : PLAIN_FIELD.test(s.name) ? `.${s.name}` : `[${JSON.stringify(s.name)}]`,
      )
      .join('')
  );
}

/**
 * What a selector found: a value, `missing` when an array is too short or a value on the way is
 * null (an empty series: no data), or `wrong` when the document does not have the selector's shape
 * (a field that does not exist, an index into an object: a mistake in the rule).
 */
export type Selected =
  { kind: 'found'; value: unknown } | { kind: 'missing'; where: string } | { kind: 'wrong'; message: string };

export function select(document: unknown, steps: SelectorStep[]): Selected {
  let current = document;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    const where = formatSteps(steps.slice(0, i));
    if (current === null) return { kind: 'missing', where: `${where} is null` };
    if (step.kind === 'index') {
      if (!Array.isArray(current))
        return {
          kind: 'wrong',
          message: `${where} is ${kindOf(current)}, not an array, so ${formatSteps(steps.slice(0, i + 1))} does not exist`,
        };
      const index = step.index < 0 ? current.length + step.index : step.index;
      if (index < 0 || index >= current.length)
        return { kind: 'missing', where: `${where} has ${current.length} item(s), no [${step.index}]` };
      current = current[index];
    } else {
      if (typeof current !== 'object' || Array.isArray(current))
        return {
          kind: 'wrong',
          message: `${where} is ${kindOf(current)}, not an object, so it has no field "${step.name}"`,
        };
      if (!Object.hasOwn(current, step.name)) {
        const fields = Object.keys(current)
          .slice(0, 10)
          .map((k) => JSON.stringify(k))
          .join(', ');
        return { kind: 'wrong', message: `${where} has no field "${step.name}" (fields: ${fields || 'none'})` };
      }
      current = (current as Record<string, unknown>)[step.name];
    }
  }
  return { kind: 'found', value: current };
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : `a ${typeof value}`;
}
