import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateTable } from './table.ts';

const backend = (key: string, weight: number, endpoints = ['http://127.0.0.1:9001']) => ({
  key,
  version: `v${key}`,
  weight,
  endpoints,
});

function rejects(input: unknown, fragment: RegExp): void {
  const check = validateTable(input);
  assert.equal(check.ok, false, 'the table should be rejected');
  if (!check.ok) assert.match(check.message, fragment);
}

test('a good table passes, with or without stickiness', () => {
  assert.ok(validateTable({ backends: [backend('1', 10), backend('2', 90)] }).ok);
  assert.ok(validateTable({ backends: [backend('1', 33.3333), backend('2', 66.6667)] }).ok);
  assert.ok(validateTable({ backends: [backend('1', 100)], stickiness: { cookie: 'uid' } }).ok);
  assert.ok(validateTable({ backends: [backend('1', 100), backend('2', 0, [])] }).ok);
});

test('weights must sum to 100 within 0.001', () => {
  rejects({ backends: [backend('1', 10), backend('2', 80)] }, /sum to 90; they must sum to 100/);
  rejects({ backends: [backend('1', 0), backend('2', 0, [])] }, /sum to 0/);
  rejects({ backends: [backend('1', 150), backend('2', -50)] }, /weight must be a number from 0 to 100/);
});

test('unknown fields are named', () => {
  rejects({ backends: [backend('1', 100)], weights: {} }, /unknown field "weights"/);
  rejects({ backends: [{ ...backend('1', 100), port: 1 }] }, /backends\[0\] has unknown field "port"/);
  rejects({ backends: [backend('1', 100)], stickiness: { query: 'u' } }, /stickiness has unknown field "query"/);
});

test('a backend with traffic needs endpoints; keys and endpoints are unique', () => {
  rejects(
    { backends: [backend('1', 90), backend('2', 10, [])] },
    /backends\[1\] \("2"\) has weight 10 but no endpoints/,
  );
  rejects({ backends: [backend('1', 50), backend('1', 50)] }, /key "1" is a duplicate/);
  rejects(
    { backends: [backend('1', 100, ['http://127.0.0.1:1', 'http://127.0.0.1:1'])] },
    /endpoints\[1\] "http:\/\/127.0.0.1:1" is a duplicate/,
  );
});

test('endpoints must be plain http URLs', () => {
  rejects({ backends: [backend('1', 100, ['127.0.0.1:80'])] }, /not a URL|must use http/);
  rejects({ backends: [backend('1', 100, ['https://example.com'])] }, /must use http:\/\//);
});

test('stickiness names exactly one header or cookie', () => {
  rejects({ backends: [backend('1', 100)], stickiness: {} }, /exactly one of header or cookie/);
  rejects({ backends: [backend('1', 100)], stickiness: { header: 'a', cookie: 'b' } }, /exactly one/);
  rejects({ backends: [backend('1', 100)], stickiness: { header: 'bad header' } }, /valid header or cookie name/);
});

test('not a table at all', () => {
  rejects(null, /JSON object/);
  rejects({ backends: [] }, /non-empty array/);
});

test('routes name a backend with endpoints and exactly one header or cookie', () => {
  const two = [backend('1', 100), backend('2', 0)];
  assert.ok(validateTable({ backends: two, routes: [{ key: '2', match: { header: 'x-cohort', value: 'beta' } }] }).ok);
  assert.ok(validateTable({ backends: two, routes: [{ key: '1', match: { cookie: 'cohort', value: 'a' } }] }).ok);
  rejects(
    { backends: two, routes: [{ key: '3', match: { header: 'x', value: 'y' } }] },
    /routes\[0\]\.key "3" names no backend; valid: 1, 2/,
  );
  rejects(
    { backends: [backend('1', 100), backend('2', 0, [])], routes: [{ key: '2', match: { header: 'x', value: 'y' } }] },
    /has no endpoints/,
  );
  rejects(
    { backends: two, routes: [{ key: '2', match: { header: 'x', cookie: 'c', value: 'y' } }] },
    /exactly one of header or cookie/,
  );
  rejects({ backends: two, routes: [{ key: '2', match: { header: 'x' } }] }, /match\.value must be a non-empty string/);
  rejects(
    { backends: two, routes: [{ key: '2', match: { header: 'bad name', value: 'v' } }] },
    /valid header or cookie name/,
  );
  rejects({ backends: two, routes: {} }, /routes must be an array/);
});
