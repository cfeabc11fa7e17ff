/**
 * Two replicas on one PostgreSQL: what acts on an event once (a notifier, a retrospective) acts
 * once however many replicas see it. Replica a runs checkout with a webhook notifier, is paused
 * past its lease so b takes the service over, and wakes up still holding the notifier; b then
 * rolls back a bad canary. Every event reaches the webhook once, and one retrospective is opened.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import { startLoad } from './support/load.ts';
import { withoutPostgres } from './support/postgres.ts';
import { startReplicas } from './support/replicas.ts';
import { freePort, serviceSpec } from './support/sluice.ts';

const skip = withoutPostgres();

interface Delivery {
  type: string;
  event: { seq: number; type: string };
}

async function webhook(t: TestContext): Promise<{ url: string; received: Delivery[] }> {
  const received: Delivery[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(JSON.parse(body) as Delivery);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

test(
  'replicated, each event is notified once and a rollback opens one retrospective, even on a replica that lost the service',
  { skip, timeout: 120_000 },
  async (t) => {
    const replicas = await startReplicas(t, ['a', 'b'], { shareDataDir: true });
    const [a, b] = [replicas.servers[0]!, replicas.servers[1]!];
    const url = replicas.url;
    const hook = await webhook(t);
    const listenPort = await freePort();
    const notifications = `  notifications:\n    - { driver: webhook, url: "${hook.url}", events: [releases, rollbacks] }\n`;
    const spec = (version: string, env?: Record<string, string>) =>
      `${serviceSpec({ version, listenPort, instances: 1, steps: ['setWeight: 20', 'pause: { duration: 30s }'], ...(env !== undefined && { env }) })}${notifications}`;

    await a.apply(spec('1.0.0'));
    await a.waitFor((s) => s.phase === 'Healthy' && s.controller?.replica === 'a', 'healthy on a');
    // a pauses past its lease (a long GC pause, a frozen VM): b takes checkout over.
    process.kill(a.pid!, 'SIGSTOP');
    t.after(() => {
      try {
        process.kill(a.pid!, 'SIGCONT');
      } catch {
        /* gone */
      }
    });
    await b.waitFor((s) => s.controller?.replica === 'b', 'b holds the lease', 15_000);
    process.kill(a.pid!, 'SIGCONT');
    const until = Date.now() + 10_000;
    while (!a.log.includes('its lease is no longer ours') && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    assert.match(a.log, /its lease is no longer ours/, 'a woke up and stopped acting for checkout');

    // b releases a canary that fails every request; a still reads every event b commits.
    const load = startLoad({ url: `http://127.0.0.1:${listenPort}/`, rps: 50, durationMs: 60_000 });
    t.after(() => load.stop());
    await b.apply(spec('2.0.0', { FAIL_RATE: '1' }));
    const rolledBack = await b.waitFor(
      (s) => s.phase === 'RolledBack' && s.lastRollback?.trafficRevertedAt != null,
      'rolled back on b',
      30_000,
    );
    assert.equal(rolledBack.controller?.replica, 'b');
    // a's log tail polls and wakes on NOTIFY: give it time to see (and, wrongly, act on) b's events.
    await new Promise((r) => setTimeout(r, 3000));

    const reverted = hook.received.filter((d) => d.type === 'rollback.trafficReverted');
    assert.equal(reverted.length, 1, `rollback.trafficReverted notified ${reverted.length} times`);
    const seqs = hook.received.map((d) => d.event.seq);
    const twice = seqs.filter((s, i) => seqs.indexOf(s) !== i);
    assert.deepEqual(
      twice,
      [],
      `events notified more than once: ${JSON.stringify(hook.received.filter((d) => twice.includes(d.event.seq)).map((d) => [d.event.seq, d.type]))}`,
    );
    assert.ok(
      hook.received.some((d) => d.type === 'release.started'),
      'the release was notified at all',
    );

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client
      .query<{ n: string }>("SELECT count(*) AS n FROM events WHERE type = 'retrospective.opened'")
      .finally(() => client.end());
    assert.equal(Number(rows[0]!.n), 1, 'one retrospective for one rollback');
  },
);
