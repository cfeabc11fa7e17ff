import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { METRICS } from '../core/types.ts';
import { jsonSchema } from './json-schema.ts';
import { exampleDocument, testDrivers } from './test-fixtures.ts';

interface Schema {
  $schema?: string;
  title?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  required?: string[];
  additionalProperties?: boolean | Schema;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  description?: string;
}

const schema = jsonSchema(testDrivers) as Schema;

/** The sub-schema at a path of property names (array items are entered with '[]'). */
function at(root: Schema, ...path: string[]): Schema {
  return path.reduce<Schema>((node, key) => {
    const next = key === '[]' ? node.items : node.properties?.[key];
    assert.ok(next, `no schema at ${path.join('.')} (stopped at ${key})`);
    return next;
  }, root);
}

/** Every key of `value` is described by `node`; returns the unknown ones as paths. */
function undescribed(value: unknown, node: Schema, path = ''): string[] {
  if (node.anyOf) {
    const fits = node.anyOf.map((branch) => undescribed(value, branch, path));
    return fits.find((missing) => missing.length === 0) ?? fits.flat();
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => undescribed(item, node.items ?? {}, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, item]) => {
    const child = node.properties?.[key];
    if (child) return undescribed(item, child, `${path}.${key}`);
    return node.additionalProperties === false ? [`${path}.${key}`] : [];
  });
}

describe('jsonSchema', () => {
  it('is plain JSON, draft 2020-12, titled', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(schema)), schema);
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(schema.title, 'Sluice Service');
  });

  it('describes every field of the documented example, and rejects unknown keys', () => {
    assert.deepEqual(undescribed(exampleDocument(), schema), []);
    assert.deepEqual(undescribed({ spec: { rollbackcontract: {} } }, schema), ['.spec.rollbackcontract']);
  });

  it('describes the input format: durations as strings with their defaults', () => {
    const contract = at(schema, 'spec', 'rollbackContract');
    assert.equal(at(contract, 'interval').type, 'string');
    assert.equal(at(contract, 'interval').default, '1s');
    assert.equal(at(contract, 'maxInconclusive').default, '10m');
    assert.equal(at(contract, 'minSamples').default, 50);
    assert.deepEqual(contract.required, ['rules']);
    assert.equal(at(schema, 'spec', 'strategy', 'canary', 'steps', '[]', 'pause', 'duration').type, 'string');
    assert.deepEqual(at(contract, 'rules', '[]', 'metric').enum, [...METRICS]);
    assert.ok(at(schema, 'spec').required?.includes('rollbackContract'));
  });

  it("includes each driver's own config schema", () => {
    const targets = at(schema, 'spec', 'target').anyOf ?? [];
    assert.deepEqual(
      targets.map((t) => at(t, 'driver').const),
      ['process', 'static'],
    );
    assert.equal(at(targets[0]!, 'readiness', 'timeout').default, '10s');
    const metrics = at(schema, 'spec', 'metrics').anyOf ?? [];
    assert.deepEqual(
      metrics.map((m) => at(m, 'provider').const),
      ['builtin', 'prometheus'],
    );
    const router = at(schema, 'spec', 'router').anyOf ?? [];
    assert.equal(at(router[0]!, 'driver').const, 'builtin');
    assert.equal(router[1]?.type, 'array', 'or a list of hosts of one driver');
  });
});
