/**
 * The replica running a release train is paused (SIGSTOP: a long GC pause, a frozen VM) past its
 * lease mid-train: the other replica takes the train over and goes on; the paused one, resumed,
 * acts no more for it — its lease lapsed, and the store refuses its fence — so the train's log
 * holds each event once and each service is released once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withoutPostgres } from './support/postgres.ts';
import { deployMembers, leaseHolder, logCounts, MEMBERS, trainSpec, trainUntil } from './support/replica-trains.ts';
import { startReplicas } from './support/replicas.ts';

const skip = withoutPostgres();

test(
  'the replica running a train, paused past its lease, acts no more for it once resumed: each event and release once',
  { skip, timeout: 90_000 },
  async (t) => {
    const replicas = await startReplicas(t, ['a', 'b'], { shareDataDir: true });
    const [a, b] = [replicas.servers[0]!, replicas.servers[1]!];
    // Every service on b: a runs the train only.
    await deployMembers({ payments: b, checkout: b, search: b }, 2);
    assert.deepEqual(
      (await a.apply(trainSpec())).map((r) => r.action),
      ['released'],
    );
    assert.equal((await leaseHolder(replicas.url, '_train:spring'))?.holder, 'a');
    await b.waitFor((s) => s.weights['2.0.0'] === 50, 'payments 2.0.0 at 50%', 20_000, 'payments');

    process.kill(a.pid!, 'SIGSTOP');
    t.after(() => {
      try {
        process.kill(a.pid!, 'SIGCONT');
      } catch {
        /* gone */
      }
    });
    const stoppedAt = Date.now();
    // b takes the train over and moves it on (payments done, checkout started) while a sleeps.
    await trainUntil(
      b,
      (v) => v.services.find((s) => s.name === 'checkout')?.status === 'releasing',
      'b moved the train on',
      20_000,
    );
    const taken = await leaseHolder(replicas.url, '_train:spring');
    assert.equal(taken?.holder, 'b', 'b runs the train');
    t.diagnostic(`b moved the train on ${Date.now() - stoppedAt} ms after a stopped`);
    process.kill(a.pid!, 'SIGCONT');
    const until = Date.now() + 10_000;
    while (!/"service":"_train:spring"[^\n]*its lease is no longer ours/.test(a.log) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    assert.match(
      a.log,
      /"service":"_train:spring"[^\n]*its lease is no longer ours/,
      'a woke up and gave the train up',
    );

    const done = await trainUntil(b, (v) => v.status !== 'Running', 'b finishes the train', 45_000);
    assert.equal(done.status, 'Succeeded', JSON.stringify(done, null, 2));
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
  },
);
