/**
 * Plain messages for the validator's issue codes, for every parse of a spec or a part of one: each
 * says what was given and what is valid (the field is named by the issue's path). A schema's own
 * message, where it has one, still wins.
 */
import { z } from 'zod';
import { duration } from '../core/units.ts';
import { didYouMean } from './did-you-mean.ts';

type Issue = z.core.$ZodRawIssue;

export const specErrorMap: z.core.$ZodErrorMap = (iss) => {
  if (iss.input === undefined && (iss.code === 'invalid_type' || iss.code === 'invalid_value')) {
    return `required field is missing; expected ${expected(iss)}`;
  }
  switch (iss.code) {
    case 'invalid_type': {
      const what = expected(iss);
      return `expected ${what}${what.includes(',') ? ';' : ','} got ${given(iss.input)}`;
    }
    case 'too_small':
    case 'too_big':
      return outOfRange(iss);
    case 'invalid_value':
      return `expected ${oneOf(iss.values)}, got ${given(iss.input)}${closest(iss.input, iss.values)}`;
    case 'invalid_format':
      return `must be ${formatName(iss)}, got ${given(iss.input)}`;
    case 'not_multiple_of':
      return `must be a multiple of ${iss.divisor}, got ${given(iss.input)}`;
    case 'unrecognized_keys': {
      const valid = fieldsOf(iss.inst);
      const named = iss.keys.map((key) => `"${key}"${didYouMean(key, valid)}`).join(', ');
      return `unknown field${iss.keys.length > 1 ? 's' : ''} ${named}; valid fields: ${valid.join(', ')}`;
    }
    case 'invalid_union':
      return `${given(iss.input)} is not valid here${described(iss.inst, '; expected ')}`;
    case 'invalid_key':
      return `invalid key ${given(iss.input)}`;
    case 'invalid_element':
      return `invalid entry ${given(iss.key)}`;
    default:
      return undefined;
  }
};

/** What the schema takes, in words: `a whole number`, `a map with fields a, b`, plus its description. */
function expected(iss: Issue): string {
  const schema = iss.inst as z.core.$ZodType | undefined;
  // The duration schema's text side has no description of its own.
  if (schema === duration.in) return 'a duration such as 500ms, 30s, 5m or 1h';
  if (iss.code === 'invalid_value') return oneOf(iss.values);
  const kind = iss.code === 'invalid_type' ? typeWord(iss.expected, schema) : 'a value';
  return `${kind}${described(schema, ': ')}`;
}

function typeWord(type: string, schema: z.core.$ZodType | undefined): string {
  switch (type) {
    case 'string':
      return 'a string';
    case 'number':
    case 'int': {
      const number = schema instanceof z.ZodNumber ? schema : undefined;
      const word = type === 'int' || number?.isInt === true ? 'a whole number' : 'a number';
      const low = finite(number?.minValue);
      const high = finite(number?.maxValue);
      if (low !== undefined && high !== undefined) return `${word} from ${low} to ${high}`;
      if (low !== undefined) return `${word} of at least ${low}`;
      return high !== undefined ? `${word} of at most ${high}` : word;
    }
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'record':
    case 'map':
      return 'a map';
    case 'object': {
      const fields = fieldsOf(schema);
      return fields.length > 0 ? `a map with fields ${fields.join(', ')}` : 'a map';
    }
    case 'null':
      return 'null';
    default:
      return type;
  }
}

/** `setWeight: -10` → must be between 0 and 100, got -10; `steps: []` → must not be empty. */
function outOfRange(iss: Extract<Issue, { code: 'too_small' | 'too_big' }>): string {
  const small = iss.code === 'too_small';
  const bound = Number(small ? iss.minimum : iss.maximum);
  if (iss.origin === 'array' || iss.origin === 'set' || iss.origin === 'string') {
    const unit = iss.origin === 'string' ? 'characters' : 'entries';
    const size = Array.isArray(iss.input) || typeof iss.input === 'string' ? iss.input.length : undefined;
    if (small && bound <= 1) return 'must not be empty';
    const limit = small ? `needs at least ${bound} ${unit}` : `takes at most ${bound} ${unit}`;
    return size === undefined ? limit : `${limit}, got ${size}`;
  }
  const schema = iss.schema ?? iss.inst;
  const number = schema instanceof z.ZodNumber ? schema : undefined;
  const whole = number?.isInt === true || iss.origin === 'int' ? ' (a whole number)' : '';
  const other = finite(small ? number?.maxValue : number?.minValue);
  const range =
    other !== undefined && iss.inclusive
      ? `from ${small ? bound : other} to ${small ? other : bound}`
      : `${small ? (iss.inclusive ? 'at least' : 'more than') : iss.inclusive ? 'at most' : 'less than'} ${bound}`;
  return `must be ${range}${whole}, got ${given(iss.input)}`;
}

/** A bound a person would write; int()'s safe-integer limits are no bound to them. */
function finite(value: number | null | undefined): number | undefined {
  return value !== null && value !== undefined && Math.abs(value) < 1e15 ? value : undefined;
}

function formatName(iss: Extract<Issue, { code: 'invalid_format' }>): string {
  switch (iss.format) {
    case 'url':
      return 'a URL such as http://127.0.0.1:8080/healthz';
    case 'starts_with':
      return `text starting with ${JSON.stringify((iss as { prefix?: string }).prefix)}`;
    case 'ends_with':
      return `text ending with ${JSON.stringify((iss as { suffix?: string }).suffix)}`;
    case 'regex':
      return `text matching ${(iss as { pattern?: string }).pattern}`;
    default:
      return `a valid ${iss.format}`;
  }
}

/** What a user wrote, as they would recognise it: `-10`, `"proces"`, `a list`, `a map`. */
export function given(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

function oneOf(values: readonly unknown[]): string {
  const words = values.map((v) => (typeof v === 'string' ? v : String(v)));
  return words.length === 1 ? words[0]! : `one of ${words.join(', ')}`;
}

function closest(input: unknown, values: readonly unknown[]): string {
  if (typeof input !== 'string') return '';
  return didYouMean(
    input,
    values.filter((v): v is string => typeof v === 'string'),
  );
}

function fieldsOf(schema: unknown): string[] {
  const shape = (schema as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
  return shape ? Object.keys(shape) : [];
}

function described(schema: unknown, prefix: string): string {
  const description = schema ? z.globalRegistry.get(schema as z.core.$ZodType)?.description : undefined;
  return description ? `${prefix}${description}` : '';
}
