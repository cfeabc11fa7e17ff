import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MigrationEvent } from './events.ts';
import { schemaUndoRefusal } from './undo.ts';

const ran = (phase: 'expand' | 'contract', key: string, ok = true): MigrationEvent & { at: number } => ({
  type: 'migration.ran',
  revision: { key, version: `${key}.0.0` },
  phase,
  direction: 'up',
  database: 'postgres',
  ok,
  durationMs: 5,
  output: '',
  error: null,
  at: 0,
});

test('no undo past a contract that ran; none to a version the expanded schema is not compatible with', () => {
  const o = { service: 'checkout', stable: { key: '3', version: '3.0.0' }, target: '2.4.0', compatibleWith: '>=2.5.0' };
  assert.equal(schemaUndoRefusal({ ...o, events: [] }), null, 'no migration ran');
  assert.match(
    schemaUndoRefusal({ ...o, events: [ran('expand', '3')] })!,
    /expanded the schema for versions ">=2\.5\.0" \(schema\.compatibleWith\), and 2\.4\.0 is not one of them/,
  );
  assert.equal(
    schemaUndoRefusal({ ...o, target: '2.6.0', events: [ran('expand', '3')] }),
    null,
    'a compatible version may run on the expanded schema',
  );
  assert.match(
    schemaUndoRefusal({ ...o, target: '2.6.0', events: [ran('expand', '3'), ran('contract', '3')] })!,
    /the contract migration of checkout 3\.0\.0 ran at 1970-01-01T00:00:00\.000Z: it removed what versions before it need/,
  );
  assert.equal(
    schemaUndoRefusal({ ...o, target: '2.6.0', events: [ran('contract', '3', false)] }),
    null,
    'a contract that failed changed nothing',
  );
  assert.equal(
    schemaUndoRefusal({ ...o, target: '2.6.0', events: [ran('contract', '2')] }),
    null,
    "an older revision's contract",
  );
});
