import assert from 'node:assert/strict';
import { test } from 'node:test';
import { riskOf } from '../core/plan/risk.ts';
import { deepMerge, diffDocuments, documentHash, effectiveDocument } from './effective-spec.ts';

const base = {
  apiVersion: 'sluice.dev/v1alpha1',
  kind: 'Service',
  metadata: { name: 'shop', labels: { team: 'web' } },
  spec: {
    version: '2.0.0',
    risk: 'low',
    target: { driver: 'process', command: ['node', 'server.js'], env: { LOG: 'info', REGION: 'eu' }, instances: 1 },
    router: { driver: 'builtin', listen: '127.0.0.1:8080' },
    strategy: { canary: { steps: [{ setWeight: 50 }] } },
    rollbackContract: { rules: [{ metric: 'error_rate', failIf: { above: 'baseline', by: 0.02 } }] },
    environments: [{ name: 'staging' }, { name: 'production' }],
  },
};

test('an environment merges target/router over the base, replaces strategy and contract, drops environments', () => {
  const env = {
    raw: {
      name: 'production',
      target: { env: { LOG: 'warn' }, instances: 3 },
      router: { listen: '127.0.0.1:9090' },
      strategy: { canary: { steps: [{ setWeight: 10 }] } },
    },
    parsed: { name: 'production', verify: 600_000 },
  };
  const doc = effectiveDocument(base, env, '1.9.0', riskOf('low', {})) as typeof base;
  assert.equal(doc.metadata.name, 'shop--production');
  assert.deepEqual(doc.metadata.labels, {
    team: 'web',
    'sluice.dev/service': 'shop',
    'sluice.dev/environment': 'production',
  });
  assert.equal(doc.spec.version, '1.9.0');
  assert.deepEqual(doc.spec.target, {
    driver: 'process',
    command: ['node', 'server.js'],
    env: { LOG: 'warn', REGION: 'eu' },
    instances: 3,
  });
  assert.deepEqual(doc.spec.router, { driver: 'builtin', listen: '127.0.0.1:9090' });
  assert.deepEqual(doc.spec.strategy, { canary: { steps: [{ setWeight: 10 }] }, verify: { window: '600000ms' } });
  assert.equal('environments' in doc.spec || 'risk' in doc.spec, false);
  assert.equal(base.spec.target.instances, 1, 'the base is not changed');
});

test('a high-risk release slows timed pauses down and raises the Verify window', () => {
  const b = {
    ...base,
    spec: {
      ...base.spec,
      strategy: { canary: { steps: [{ setWeight: 10 }, { pause: { duration: '30s' } }, { pause: {} }] } },
    },
  };
  const env = {
    raw: { name: 'production' },
    parsed: { name: 'production', highRisk: { slowdown: 3, verify: 60_000 } },
  };
  const high = effectiveDocument(b, env, '2.0.0', riskOf('high', {})) as typeof b;
  assert.deepEqual(high.spec.strategy, {
    canary: { steps: [{ setWeight: 10 }, { pause: { duration: '90000ms' } }, { pause: {} }] },
    verify: { window: '60000ms' },
  });
  const low = effectiveDocument(b, env, '2.0.0', riskOf('low', {})) as typeof b;
  assert.deepEqual(low.spec.strategy, b.spec.strategy);
});

test('diff names each differing field with both values; the hash follows the content, not key order', () => {
  const a = effectiveDocument(
    base,
    { raw: { name: 'staging' }, parsed: { name: 'staging' } },
    '2.0.0',
    riskOf('low', {}),
  );
  const b = effectiveDocument(
    base,
    { raw: { name: 'production', router: { listen: '127.0.0.1:9090' } }, parsed: { name: 'production' } },
    '1.0.0',
    riskOf('low', {}),
  );
  assert.deepEqual(diffDocuments(a, b), [
    { path: 'spec.router.listen', a: '127.0.0.1:8080', b: '127.0.0.1:9090' },
    { path: 'spec.version', a: '2.0.0', b: '1.0.0' },
  ]);
  assert.equal(documentHash({ x: 1, y: [1, { z: 2 }] }), documentHash({ y: [1, { z: 2 }], x: 1 }));
  assert.notEqual(documentHash(a), documentHash(b));
  assert.deepEqual(deepMerge({ a: [1, 2], m: { x: 1 } }, { a: [3], m: { y: 2 } }), { a: [3], m: { x: 1, y: 2 } });
});
