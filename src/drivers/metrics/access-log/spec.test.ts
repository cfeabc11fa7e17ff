/**
 * What the spec says about request rules behind HAProxy and NGINX, with the real driver registry:
 * refused with the built-in proxy's provider (it sees nothing there), refused with `access-log`
 * until the router sends its lines (`router.accessLog`), accepted then.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSpecs, SpecError } from '../../../spec/index.ts';
import { driverSchemas } from '../../registry.ts';

const spec = (router: string, metrics: string) => `apiVersion: sluice.dev/v1alpha1
kind: Service
metadata: { name: shop }
spec:
  version: "1"
  target: { driver: static, urls: ["http://127.0.0.1:4100"] }
  router: ${router}
  metrics: ${metrics}
  strategy: { canary: { steps: [ { setWeight: 50 }, { pause: {} } ] } }
  rollbackContract:
    rules:
      - { metric: error_rate, failIf: { above: baseline, by: 0.02 } }
`;

function problems(text: string): string[] {
  try {
    parseSpecs(text, 'shop.yaml', driverSchemas());
    return [];
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

test('request rules behind haproxy or nginx need the access-log provider and the router sending its lines', () => {
  for (const driver of ['haproxy', 'nginx']) {
    const builtin = problems(spec(`{ driver: ${driver}, listen: 127.0.0.1:8080 }`, '{ provider: builtin }'));
    assert.equal(builtin.length, 1, builtin.join('\n'));
    assert.match(
      builtin[0]!,
      new RegExp(
        `spec\\.metrics: the builtin metrics provider measures router "builtin", not router "${driver}": rules error_rate would never get data\\. Use metrics: \\{ provider: access-log, listen: 127\\.0\\.0\\.1:5514 \\}`,
      ),
    );

    const unsent = problems(
      spec(`{ driver: ${driver}, listen: 127.0.0.1:8080 }`, '{ provider: access-log, listen: 127.0.0.1:5514 }'),
    );
    assert.deepEqual(unsent, [
      `spec.router.accessLog: the access-log metrics provider reads the router's access log, but router.accessLog is not set: rules error_rate would never get data. Set router.accessLog: 127.0.0.1:5514 (where the router sends one line per request)`,
    ]);
    assert.deepEqual(
      problems(
        spec(
          `{ driver: ${driver}, listen: 127.0.0.1:8080, accessLog: 127.0.0.1:5514 }`,
          '{ provider: access-log, listen: 127.0.0.1:5514 }',
        ),
      ),
      [],
    );
  }
  const behindBuiltin = problems(
    spec('{ driver: builtin, listen: 127.0.0.1:8080 }', '{ provider: access-log, listen: 127.0.0.1:5514 }'),
  );
  assert.match(
    behindBuiltin[0] ?? '',
    /the access-log metrics provider measures routers "haproxy", "nginx", not router "builtin".*Use metrics: \{ provider: builtin \}/,
  );
  assert.match(
    problems(
      spec(
        '{ driver: haproxy, listen: 127.0.0.1:8080, accessLog: nowhere }',
        '{ provider: access-log, listen: 127.0.0.1:5514 }',
      ),
    )[0] ?? '',
    /router\.accessLog.*host:port/,
  );
});
