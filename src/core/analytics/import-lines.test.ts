import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readImportText } from './import-lines.ts';

describe('import lines', () => {
  it('reads the three line types of the issue, and reports each bad line with its number while reading the rest', () => {
    const text = [
      '{"type":"deployment","id":"d1","service":"checkout","environment":"production","version":"2.0.0","startedAt":"2026-06-01T10:00:00Z","finishedAt":"2026-06-01T10:20:00Z","result":"success","commits":["a1b2c3"]}',
      '{"type":"commit","sha":"a1b2c3","service":"checkout","committedAt":"2026-05-31T16:00:00Z"}',
      '',
      '{"type":"incident","id":"i1","service":"checkout","openedAt":"2026-06-01T12:00:00Z","resolvedAt":"2026-06-01T12:40:00Z"}',
      '{"type":"deployment","id":"d2","service":"checkout","version":"2.0.1","startedAt":"2026-06-02T10:00:00Z","finishedAt":"2026-06-02T10:20:00Z","result":"rolledback"}',
      '{"type":"commit","sha":"xyz","service":"checkout","committedAt":"2026-05-31T16:00:00Z"}',
      '{"type":"incident","id":"i2","service":"checkout","openedAt":"yesterday"}',
      '{"type":"build"}',
      '{not json',
      '{"type":"incident","id":"i3","service":"checkout","openedAt":"2026-06-01T12:00:00Z","resolvedAt":"2026-06-01T11:00:00Z"}',
      '{"type":"commit","sha":"a1b2c3","service":"checkout","committedAt":"2026-05-31T16:00:00Z","author":"x"}',
    ].join('\n');
    const { records, errors } = readImportText(text);
    assert.deepEqual(
      records.map((r) => r.type),
      ['deployment', 'commit', 'incident'],
    );
    const first = records[0]!;
    const d = first.type === 'deployment' ? first.deployment : null;
    assert.equal(d?.finishedAt, Date.parse('2026-06-01T10:20:00Z'));
    assert.deepEqual(d?.commits, ['a1b2c3']);
    assert.deepEqual(
      errors.map((e) => e.line),
      [5, 6, 7, 8, 9, 10, 11],
    );
    assert.match(errors[0]!.message, /trafficRevertedAt: a rolled-back deployment needs/);
    assert.match(errors[1]!.message, /^sha: a commit sha: 4 to 64 hex digits \(given "xyz"\)/);
    assert.match(errors[2]!.message, /^openedAt: an ISO time, e\.g\. 2026-06-01T10:00:00Z \(given "yesterday"\)/);
    assert.match(errors[3]!.message, /type "build" is not a line type; valid: deployment, commit, incident, version/);
    assert.match(errors[4]!.message, /^not JSON/);
    assert.match(errors[5]!.message, /resolvedAt .* is before openedAt/);
    assert.match(errors[6]!.message, /author/);
  });

  it('a deployment may say when its version first took traffic: time to restore starts there; it must lie within the deployment', () => {
    const line = (extra: string) =>
      `{"type":"deployment","id":"d3","service":"checkout","version":"3","startedAt":"2026-06-02T10:00:00Z","finishedAt":"2026-06-02T10:30:00Z","result":"rolledback","trafficRevertedAt":"2026-06-02T10:30:00Z"${extra}}`;
    const { records, errors } = readImportText(
      [
        line(',"firstTrafficAt":"2026-06-02T10:10:00Z"'),
        line(',"firstTrafficAt":"2026-06-02T11:00:00Z"'),
        line(''),
      ].join('\n'),
    );
    assert.deepEqual(
      records.map((r) => (r.type === 'deployment' ? r.deployment.firstTrafficAt : undefined)),
      [Date.parse('2026-06-02T10:10:00Z'), null],
    );
    assert.deepEqual(errors, [
      {
        line: 2,
        message:
          'firstTrafficAt 2026-06-02T11:00:00Z is not between startedAt 2026-06-02T10:00:00Z and trafficRevertedAt 2026-06-02T10:30:00Z',
      },
    ]);
  });
});
