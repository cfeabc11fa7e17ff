import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseDuration, parseSpan } from './units.ts';

test('durations: ms, s, m and h; anything else is not one', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration(' 1.5s '), 1500);
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  for (const bad of ['', '5', '5 m', '-1s', '1d', 'ten seconds']) assert.equal(parseDuration(bad), null, bad);
  assert.equal(formatDuration(600_000), '10m');
  assert.equal(formatDuration(1500), '1500ms');
});

test('spans add days and weeks to the durations', () => {
  assert.equal(parseSpan('30d'), 30 * 86_400_000);
  assert.equal(parseSpan('2w'), 14 * 86_400_000);
  assert.equal(parseSpan('90m'), 5_400_000);
  for (const bad of ['', 'd', '3y', '1 w']) assert.equal(parseSpan(bad), null, bad);
});
