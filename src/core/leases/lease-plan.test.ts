import assert from 'node:assert/strict';
import { test } from 'node:test';
import { holderDeadline, LEASE_TIMINGS, planLeases, preferredReplica, type LeaseRecord } from './lease-plan.ts';

const lease = (service: string, holder: string, epoch: number, expiresAt: number): LeaseRecord => ({
  service,
  holder,
  epoch,
  expiresAt,
});

test("services spread over replicas, each to one, and only a gone replica's services move", () => {
  const services = Array.from({ length: 300 }, (_, i) => `svc-${i}`);
  const three = services.map((s) => preferredReplica(s, ['a', 'b', 'c']));
  for (const r of ['a', 'b', 'c']) {
    const n = three.filter((x) => x === r).length;
    assert.ok(n > 70 && n < 130, `${r} gets ${n} of 300`);
  }
  const two = services.map((s) => preferredReplica(s, ['a', 'c']));
  services.forEach((_, i) => {
    if (three[i] !== 'b') assert.equal(two[i], three[i]);
  });
  assert.equal(preferredReplica('x', []), null);
});

test('a free service is claimed by its preferred replica only; a lapsed one by anyone after a further ttl', () => {
  const pref = preferredReplica('checkout', ['a', 'b'])!;
  const other = pref === 'a' ? 'b' : 'a';
  const base = { services: ['checkout'], replicas: ['a', 'b'], held: new Map() };
  assert.deepEqual(planLeases({ ...base, me: pref, now: 1000, leases: [] }).claim, [
    { service: 'checkout', epoch: null },
  ]);
  assert.deepEqual(
    planLeases({ ...base, me: other, now: 1000, leases: [] }).claim,
    [{ service: 'checkout', epoch: null }],
    'no lease row at all: anyone',
  );
  const live = [lease('checkout', 'z', 4, 5000)];
  assert.deepEqual(planLeases({ ...base, me: pref, now: 4999, leases: live }).claim, [], 'a live lease is left alone');
  assert.deepEqual(planLeases({ ...base, me: pref, now: 5000, leases: live }).claim, [
    { service: 'checkout', epoch: null },
  ]);
  assert.deepEqual(planLeases({ ...base, me: other, now: 5000 + LEASE_TIMINGS.ttlMs - 1, leases: live }).claim, []);
  assert.deepEqual(planLeases({ ...base, me: other, now: 5000 + LEASE_TIMINGS.ttlMs, leases: live }).claim, [
    { service: 'checkout', epoch: null },
  ]);
});

test("a held lease is renewed under its epoch until the holder's own deadline, then dropped", () => {
  const held = new Map([['checkout', { epoch: 7, deadline: holderDeadline(1000) }]]);
  const base = {
    me: 'a',
    services: ['checkout'],
    replicas: ['a', 'b'],
    held,
    leases: [lease('checkout', 'a', 7, 3000)],
  };
  assert.equal(holderDeadline(1000), 1000 + LEASE_TIMINGS.ttlMs - LEASE_TIMINGS.marginMs);
  assert.deepEqual(planLeases({ ...base, now: 2000 }), { claim: [{ service: 'checkout', epoch: 7 }], drop: [] });
  assert.deepEqual(
    planLeases({ ...base, now: holderDeadline(1000) }),
    { claim: [], drop: ['checkout'] },
    'the database unreachable: stop at our deadline',
  );
  assert.deepEqual(
    planLeases({ ...base, now: 2000, leases: [lease('checkout', 'b', 8, 9000)] }),
    { claim: [], drop: ['checkout'] },
    'taken over: our epoch is stale',
  );
  assert.deepEqual(
    planLeases({ ...base, now: 2000, services: [] }),
    { claim: [{ service: 'checkout', epoch: 7 }], drop: [] },
    'a service being created here is kept',
  );
});
