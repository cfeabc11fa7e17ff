/**
 * The replica running a release train is SIGKILLed mid-train, while the service it runs itself is
 * half-way through its release: the other replica takes the train (and that service) over from
 * the log within the lease time and finishes it. Each service is released once, and the train's
 * log holds each of its events once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withoutPostgres } from './support/postgres.ts';
import { deployMembers, leaseHolder, logCounts, MEMBERS, trainSpec, trainUntil } from './support/replica-trains.ts';
import { startReplicas } from './support/replicas.ts';

const skip = withoutPostgres();

test(
  'the replica running a train is killed mid-train: the other takes it over within the lease time and finishes it, each service released once',
  { skip, timeout: 90_000 },
  async (t) => {
    const replicas = await startReplicas(t, ['a', 'b'], { shareDataDir: true });
    const [a, b] = [replicas.servers[0]!, replicas.servers[1]!];
    await deployMembers({ payments: a, checkout: b, search: a }, 3);

    assert.deepEqual(
      (await a.apply(trainSpec())).map((r) => r.action),
      ['released'],
    );
    const before = await leaseHolder(replicas.url, '_train:spring');
    assert.equal(before?.holder, 'a', 'a runs the train it was applied on');
    await b.waitFor((s) => s.weights['2.0.0'] === 50, 'payments 2.0.0 at 50%', 20_000, 'payments');

    await a.kill('SIGKILL');
    const killedAt = Date.now();
    let after: Awaited<ReturnType<typeof leaseHolder>> = before;
    while (after?.holder !== 'b' && Date.now() - killedAt < 10_000) {
      await new Promise((r) => setTimeout(r, 50));
      after = await leaseHolder(replicas.url, '_train:spring');
    }
    const takeoverMs = Date.now() - killedAt;
    t.diagnostic(`train taken over by b ${takeoverMs} ms after the kill (epoch ${before!.epoch} → ${after?.epoch})`);
    assert.equal(after?.holder, 'b', 'b took the train');
    assert.ok(takeoverMs < 5000, `taken over in ${takeoverMs} ms (lease 3 s)`);
    assert.ok(after!.epoch > before!.epoch, 'under a new epoch');

    const done = await trainUntil(b, (v) => v.status !== 'Running', 'b finishes the train', 45_000);
    assert.equal(done.status, 'Succeeded', JSON.stringify(done, null, 2));
    for (const m of MEMBERS) {
      const s = await b.status(m);
      assert.equal(s.stableVersion, '2.0.0', `${m} runs 2.0.0`);
      assert.equal(s.controller?.replica, 'b', `${m} is run by b`);
    }
    const log = await logCounts(replicas.url);
    for (const m of MEMBERS)
      assert.equal(log.releases[`${m} 2.0.0`], 1, `${m} 2.0.0 released once: ${JSON.stringify(log.releases)}`);
    assert.deepEqual(log.train, [
      'train.started',
      'train.serviceStarted payments',
      'train.serviceDone payments',
      'train.serviceStarted checkout',
      'train.serviceDone checkout',
      'train.serviceStarted search',
      'train.serviceDone search',
      'train.ended',
    ]);
    const timeline = (await b.api<{ timeline: { type: string; text: string }[] }>('GET', '/api/trains/spring')).body
      .timeline;
    t.diagnostic(`timeline: ${timeline.map((e) => e.type).join(', ')}`);
  },
);
