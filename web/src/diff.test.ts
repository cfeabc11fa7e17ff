import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffLines } from './diff.ts';

test('a changed line shows as removed then added, the rest as unchanged', () => {
  const d = diffLines('a\nversion: "1.0.0"\nc\n', 'a\nversion: "2.0.0"\nc\nd\n');
  assert.deepEqual(d, [
    { kind: 'same', text: 'a' },
    { kind: 'removed', text: 'version: "1.0.0"' },
    { kind: 'added', text: 'version: "2.0.0"' },
    { kind: 'same', text: 'c' },
    { kind: 'added', text: 'd' },
  ]);
});

test('identical texts have no change; past the size limit the diff is whole-text', () => {
  assert.ok(diffLines('x\ny', 'x\ny').every((l) => l.kind === 'same'));
  assert.deepEqual(
    diffLines('a\nb', 'a\nc', 1).map((l) => l.kind),
    ['removed', 'removed', 'added', 'added'],
  );
});
