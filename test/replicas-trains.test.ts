/**
 * A release train on two replicas with data dirs of their own, its services' leases spread over
 * both (payments and search on a, checkout on b). The train is run by a; a person applies it again
 * and approves the run on b, which sends both on to a through the log. Each service is released
 * once, by the replica that runs it, and the train's log holds each of its events once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callAs } from './support/environments.ts';
import { withoutPostgres } from './support/postgres.ts';
import {
  deployMembers,
  leaseHolder,
  logCounts,
  MEMBERS,
  trainOf,
  trainSpec,
  trainUntil,
} from './support/replica-trains.ts';
import { startReplicas } from './support/replicas.ts';
import { ROOT } from './support/sluice.ts';

const skip = withoutPostgres();

test(
  'a train over services run by two replicas, applied and approved on the replica that does not run it, releases each service once',
  { skip, timeout: 90_000 },
  async (t) => {
    const replicas = await startReplicas(t, ['a', 'b']);
    const [a, b] = [replicas.servers[0]!, replicas.servers[1]!];
    await deployMembers({ payments: a, checkout: b, search: a }, 1);
    for (const [m, owner] of [
      ['payments', 'a'],
      ['checkout', 'b'],
      ['search', 'a'],
    ] as const)
      assert.equal((await b.status(m)).controller?.replica, owner, `${m} is run by ${owner}`);

    // Applied on a as a daily train (its next run hours away): a runs it, b sees it from the log.
    const hour = (new Date().getUTCHours() + 12) % 24;
    const schedule = `  schedule: { rrule: "FREQ=DAILY", start: "2026-01-01T${String(hour).padStart(2, '0')}:00", timeZone: UTC }\n`;
    assert.deepEqual(
      (await a.apply(trainSpec(schedule))).map((r) => r.action),
      ['waiting'],
    );
    assert.equal((await leaseHolder(replicas.url, '_train:spring'))?.holder, 'a', 'a runs the train it was applied on');
    await trainUntil(b, (v) => v.status === 'Scheduled', 'b sees the scheduled train');

    // On b, the train applied again to run now with an approval: a carries it out.
    const alice = await a.createToken('approver', 'alice');
    const applied = await b.api<{ results: { action: string; message: string }[] }>('POST', '/api/apply', {
      spec: trainSpec('  approvals: { required: 1, role: approver }\n'),
      file: 'train.yaml',
      baseDir: ROOT,
    });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    assert.deepEqual(
      applied.body.results.map((r) => `${r.action}: ${r.message}`),
      ['waiting: train spring: waiting for approval: 0 of 1 approver (sluice train approve spring)'],
    );
    assert.equal((await trainOf(b)).status, 'WaitingForApproval', 'b answers with the state a recorded');
    assert.equal((await leaseHolder(replicas.url, '_train:spring'))?.holder, 'a', 'still run by a');

    // Approved on b (alice's token reaches b through the log).
    let approved = { status: 0, body: {} as { status?: string } };
    const by = Date.now() + 5000;
    while (approved.status !== 200 && Date.now() < by) {
      approved = await callAs<{ status?: string }>(b, alice, 'POST', '/api/trains/spring/approve', {
        comment: 'notes read',
      });
      if (approved.status === 401) await new Promise((r) => setTimeout(r, 100));
      else break;
    }
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.status, 'Running');

    const done = await trainUntil(
      b,
      (v) => v.status !== 'Running' && v.status !== 'WaitingForApproval',
      'the train ends',
    );
    assert.equal(done.status, 'Succeeded', JSON.stringify(done, null, 2));
    for (const m of MEMBERS) {
      const s = await a.status(m);
      assert.equal(s.stableVersion, '2.0.0', `${m} runs 2.0.0`);
    }
    assert.equal((await b.status('checkout')).controller?.replica, 'b', 'checkout was released by b, which runs it');

    const log = await logCounts(replicas.url);
    assert.deepEqual(log.releases, {
      'payments 1.0.0': 1,
      'payments 2.0.0': 1,
      'checkout 1.0.0': 1,
      'checkout 2.0.0': 1,
      'search 1.0.0': 1,
      'search 2.0.0': 1,
    });
    assert.deepEqual(log.train, [
      'train.scheduled',
      'train.started',
      'train.approved',
      'train.serviceStarted payments',
      'train.serviceDone payments',
      'train.serviceStarted checkout',
      'train.serviceDone checkout',
      'train.serviceStarted search',
      'train.serviceDone search',
      'train.ended',
    ]);
    const timeline = (await trainOf(a)).timeline!;
    assert.ok(
      timeline.filter((e) => e.type === 'train.approved').every((e) => e.actor === 'alice'),
      'the approval is alice’s, though a recorded it',
    );
  },
);
