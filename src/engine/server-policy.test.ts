import assert from 'node:assert/strict';
import { test } from 'node:test';
import { policyViolations } from './server-policy.ts';

const spec = {
  spec: {
    target: { driver: 'process', command: ['node', 'releases/${version}/server.js'], instances: 2 },
    router: { driver: 'haproxy', binary: '/usr/sbin/haproxy' },
    metrics: { provider: 'prometheus', address: 'http://prometheus.internal:9090' },
    strategy: {
      canary: {
        steps: [
          { smoke: { command: ['/opt/checks/smoke.sh'] } },
          { smoke: { http: { url: 'http://169.254.169.254/latest/meta-data/' } } },
        ],
      },
    },
    notifications: [{ url: 'https://hooks.example.com/x' }],
  },
};

test('no policy, or a list left out, limits nothing', () => {
  assert.deepEqual(policyViolations(spec, {}), []);
  assert.deepEqual(policyViolations(spec, { allowExec: null, allowUrlHosts: null }), []);
});

test('each executable and host outside the policy is named with its field and what is allowed', () => {
  const v = policyViolations(spec, {
    allowExec: ['node', '/usr/sbin/'],
    allowUrlHosts: ['prometheus.internal:9090', '*.example.com'],
  });
  assert.deepEqual(v, [
    'spec.strategy.canary.steps[0].smoke.command[0]: "/opt/checks/smoke.sh" is not an executable this server may start; allowed (server policy, set by an admin): node, /usr/sbin/',
    'spec.strategy.canary.steps[1].smoke.http.url: 169.254.169.254 is not a host this server may call; allowed (server policy, set by an admin): prometheus.internal:9090, *.example.com',
  ]);
  // A folder prefix does not let a path climb out of it; a bare name matches only itself.
  assert.equal(policyViolations({ command: ['/usr/sbin/../../tmp/x'] }, { allowExec: ['/usr/sbin/'] }).length, 1);
  assert.equal(policyViolations({ command: ['nodejs'] }, { allowExec: ['node'] }).length, 1);
  assert.equal(
    policyViolations({ address: 'http://prometheus.internal:9999' }, { allowUrlHosts: ['prometheus.internal:9090'] })
      .length,
    1,
  );
  assert.equal(
    policyViolations({ address: 'http://prometheus.internal:9999' }, { allowUrlHosts: ['prometheus.internal'] }).length,
    0,
  );
});
