import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interpolate, templateHash, templateOf, UnknownPlaceholderError } from './interpolate.ts';
import type { ServiceSpec } from './service-schema.ts';
import { exampleSpec } from './test-fixtures.ts';

const vars = { version: '2.0.0', service: 'checkout' };

describe('interpolate', () => {
  it('replaces placeholders in every string, deeply, leaving keys and other values alone', () => {
    const template = {
      driver: 'process',
      command: ['node', 'releases/${version}/server.js', '--name=${service}-${version}'],
      env: { '${version}': 'v${version}', PORT: 8080, DEBUG: false, EXTRA: null },
      nested: [{ path: '/${service}' }],
    };
    assert.deepEqual(interpolate(template, vars), {
      driver: 'process',
      command: ['node', 'releases/2.0.0/server.js', '--name=checkout-2.0.0'],
      env: { '${version}': 'v2.0.0', PORT: 8080, DEBUG: false, EXTRA: null },
      nested: [{ path: '/checkout' }],
    });
    assert.equal(template.command[1], 'releases/${version}/server.js', 'the input is not mutated');
  });

  it('writes $${name} as a literal ${name}', () => {
    assert.equal(interpolate('echo $${HOME} ${version}', vars), 'echo ${HOME} 2.0.0');
  });

  it('throws naming every unknown placeholder, where it is, and the valid ones', () => {
    const template = { command: ['run', '${foo}'], env: { A: '${bar} ${version}' } };
    assert.throws(
      () => interpolate(template, vars),
      (error: unknown) => {
        assert.ok(error instanceof UnknownPlaceholderError);
        assert.deepEqual(error.placeholders, [
          { path: ['command', 1], name: 'foo' },
          { path: ['env', 'A'], name: 'bar' },
        ]);
        assert.deepEqual(error.known, ['version', 'service']);
        assert.equal(
          error.message,
          'unknown placeholder ${foo} at command[1], ${bar} at env.A; valid placeholders: ${version}, ${service}',
        );
        return true;
      },
    );
  });
});

describe('templateHash', () => {
  /** The example with one change applied to a deep copy. */
  const changed = (edit: (spec: ServiceSpec) => void): ServiceSpec => {
    const spec = structuredClone(exampleSpec);
    edit(spec);
    return spec;
  };
  const base = templateHash(exampleSpec);

  it('is a sha256 of the version and target only', () => {
    assert.match(base, /^[0-9a-f]{64}$/);
    assert.deepEqual(templateOf(exampleSpec), { version: '2.0.0', target: exampleSpec.spec.target });
  });

  it('changes when the version, the env or the command changes', () => {
    const variants = [
      changed((s) => {
        s.spec.version = '2.0.1';
      }),
      changed((s) => {
        s.spec.target.env = { LOG_LEVEL: 'debug' };
      }),
      changed((s) => {
        s.spec.target.command = ['node', 'server.js'];
      }),
    ];
    const hashes = variants.map(templateHash);
    for (const hash of hashes) assert.notEqual(hash, base);
    assert.equal(new Set(hashes).size, hashes.length);
  });

  it('does not change with steps, the contract, the router, labels or key order', () => {
    const same = [
      changed((s) => {
        s.spec.strategy.canary.steps = [{ kind: 'setWeight', weight: 100 }];
      }),
      changed((s) => {
        s.spec.rollbackContract.windowMs = 60_000;
        s.spec.rollbackContract.rules.pop();
      }),
      changed((s) => {
        s.spec.router.listen = '127.0.0.1:9090';
      }),
      changed((s) => {
        s.metadata.labels = {};
      }),
      changed((s) => {
        const { driver, ...rest } = s.spec.target;
        s.spec.target = Object.assign(Object.fromEntries(Object.entries(rest).reverse()), { driver });
      }),
    ];
    for (const spec of same) assert.equal(templateHash(spec), base);
  });
});
