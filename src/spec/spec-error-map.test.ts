import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { listenAddress } from '../core/units.ts';
import { specErrorMap } from './spec-error-map.ts';

/** The message a value gets from `schema` under the spec's error map. */
function message(schema: z.ZodType, value: unknown): string {
  const result = schema.safeParse(value, { error: specErrorMap });
  assert.equal(result.success, false, `expected ${JSON.stringify(value)} to be refused`);
  return result.error!.issues.map((i) => i.message).join(' | ');
}

test('numbers out of range say the valid range and what was given', () => {
  assert.equal(message(z.number().min(0).max(100), -10), 'must be from 0 to 100, got -10');
  assert.equal(message(z.number().min(0).max(100), 101), 'must be from 0 to 100, got 101');
  assert.equal(message(z.number().int().min(1), 0), 'must be at least 1 (a whole number), got 0');
  assert.equal(message(z.number().positive(), 0), 'must be more than 0, got 0');
  assert.equal(message(z.number().int(), 1.5), 'expected a whole number, got 1.5');
});

test('a wrong type names the type expected, its description, and the value given', () => {
  assert.equal(message(listenAddress, 8080), 'expected a string: host:port, e.g. 127.0.0.1:8080; got 8080');
  assert.equal(message(z.number().min(0).max(100), 'half'), 'expected a number from 0 to 100, got "half"');
  assert.equal(message(z.array(z.string()), { a: 1 }), 'expected a list, got a map');
  assert.equal(
    message(z.object({ a: z.string(), b: z.string() }), 'text'),
    'expected a map with fields a, b; got "text"',
  );
  assert.equal(message(z.object({ a: z.string() }), {}), 'required field is missing; expected a string');
});

test('enums, formats, lists and unknown keys say what is valid', () => {
  assert.equal(
    message(z.enum(['pause', 'rollback']), 'rolback'),
    'expected one of pause, rollback, got "rolback" (did you mean "rollback"?)',
  );
  assert.equal(message(z.url(), 'not a url'), 'must be a URL such as http://127.0.0.1:8080/healthz, got "not a url"');
  assert.equal(message(z.string().startsWith('/'), 'healthz'), 'must be text starting with "/", got "healthz"');
  assert.equal(message(z.array(z.string()).min(1), []), 'must not be empty');
  assert.equal(
    message(z.strictObject({ listen: z.string() }), { listen: 'x', lisen: 'y' }),
    'unknown field "lisen" (did you mean "listen"?); valid fields: listen',
  );
});
