/**
 * `router:` as a list of hosts: what the spec accepts and refuses (with the real driver registry),
 * and that the registry drives such a list as one router.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSpecs, SpecError } from '../../spec/index.ts';
import { createRouter, driverSchemas } from '../registry.ts';
import { FleetRouter } from './fleet.ts';

const spec = (router: string) => `apiVersion: sluice.dev/v1alpha1
kind: Service
metadata: { name: shop }
spec:
  version: "1"
  target: { driver: static, urls: ["http://127.0.0.1:4100"] }
  router: ${router}
  strategy: { canary: { steps: [ { setWeight: 50 }, { pause: {} } ] } }
  rollbackContract:
    rules:
      - { signal: page, failIf: { count: 1, within: 1m } }
`;

function parse(router: string): { router?: unknown; problems: string[] } {
  try {
    return { router: parseSpecs(spec(router), 'shop.yaml', driverSchemas())[0]!.spec.router, problems: [] };
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    return { problems: err.issues.map((i) => `${i.path}: ${i.message}`) };
  }
}

test('a list of hosts of one driver is one router over all of them', () => {
  const { router, problems } = parse(
    '[ { driver: haproxy, adminSocket: 10.0.0.1:9999, backend: app }, { driver: haproxy, adminSocket: 10.0.0.2:9999, backend: app } ]',
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(router, {
    driver: 'haproxy',
    fleet: [
      { driver: 'haproxy', adminSocket: '10.0.0.1:9999', backend: 'app', binary: 'haproxy' },
      { driver: 'haproxy', adminSocket: '10.0.0.2:9999', backend: 'app', binary: 'haproxy' },
    ],
  });
  const ctx = { service: 'shop', serviceDir: '/nonexistent', log: () => {} };
  assert.ok(createRouter(router as { driver: string }, ctx) instanceof FleetRouter);
  // A list of one is that one router.
  assert.deepEqual(parse('[ { driver: nginx, listen: 127.0.0.1:8080 } ]').router, {
    driver: 'nginx',
    listen: '127.0.0.1:8080',
    workers: 'auto',
    binary: 'nginx',
  });
});

test('mixed drivers, a host listed twice, an empty list and a bad host are refused, naming the item', () => {
  assert.deepEqual(
    parse('[ { driver: haproxy, listen: 127.0.0.1:8080 }, { driver: nginx, listen: 127.0.0.1:8081 } ]').problems,
    [
      'spec.router: the hosts of one router list use one driver; this list mixes haproxy, nginx (one release weighs one kind of router)',
    ],
  );
  assert.deepEqual(
    parse(
      '[ { driver: haproxy, adminSocket: 10.0.0.1:9999, backend: app }, { driver: haproxy, adminSocket: 10.0.0.1:9999, backend: web } ]',
    ).problems,
    ['spec.router[1]: host 10.0.0.1:9999 is listed twice (items 0 and 1); list each host once'],
  );
  assert.match(parse('[]').problems[0] ?? '', /^spec\.router: a router list needs at least one host/);
  const bad = parse('[ { driver: haproxy, listen: 127.0.0.1:8080 }, { driver: haproxy, listen: nowhere } ]').problems;
  assert.equal(bad.length, 1);
  assert.match(bad[0]!, /^spec\.router\[1\]\.listen: .*host:port/);
});
