/**
 * Replicas with data dirs of their own (other machines) on one PostgreSQL: a release policy
 * applied on one replica holds on the others — a freeze applied on `a` holds a release on `b` —
 * and a replica started later has it from its first request; the server policy likewise.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { TestPostgres, withoutPostgres } from './support/postgres.ts';
import { freePort, killLeftovers, serviceSpec, SluiceServer } from './support/sluice.ts';

const skip = withoutPostgres();

const freeze = (until: string) => `apiVersion: sluice.dev/v1alpha1
kind: ReleasePolicy
metadata: { name: ops }
spec:
  freezes:
    - { name: peak, from: "2020-01-01T00:00:00Z", until: "${until}", reason: peak traffic }
`;

type PolicyAnswer = { policy: { name: string; freezes: { name: string }[] } | null };

test(
  'a freeze applied on one replica holds releases on another with its own data dir; a replica started later has it at once',
  { skip, timeout: 120_000 },
  async (t) => {
    const db = await TestPostgres.start();
    t.after(() => db.stop());
    const url = await db.createDatabase();
    const started: SluiceServer[] = [];
    t.after(async () => {
      await Promise.all(started.map((s) => s.kill('SIGKILL')));
      for (const s of started) {
        killLeftovers(s.dataDir);
        rmSync(s.dataDir, { recursive: true, force: true });
      }
    });
    const a = await SluiceServer.start({ args: ['--store', url, '--replica-id', 'a'] });
    started.push(a);
    const replica = async (id: string) => {
      const s = await SluiceServer.start({ args: ['--store', url, '--replica-id', id], token: a.token });
      started.push(s);
      assert.notEqual(s.dataDir, a.dataDir, 'a data dir of its own');
      return s;
    };
    const b = await replica('b');

    await a.apply(freeze(new Date(Date.now() + 3_600_000).toISOString()));
    let seen: PolicyAnswer = { policy: null };
    const until = Date.now() + 5000;
    while (seen.policy?.name !== 'ops' && Date.now() < until) {
      seen = (await b.api<PolicyAnswer>('GET', '/api/policy')).body;
      if (seen.policy?.name !== 'ops') await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(
      seen.policy?.freezes.map((f) => f.name),
      ['peak'],
      `b has a's policy: ${JSON.stringify(seen)}`,
    );

    // b runs a service of its own; its next release waits for the freeze applied on a.
    const listenPort = await freePort();
    await b.apply(serviceSpec({ name: 'search', version: '1.0.0', listenPort, instances: 1 }));
    await b.waitFor((s) => s.phase === 'Healthy', 'search healthy on b', 30_000, 'search');
    const [v2] = await b.apply(serviceSpec({ name: 'search', version: '2.0.0', listenPort, instances: 1 }));
    assert.equal(v2!.action, 'waiting', JSON.stringify(v2));
    assert.match((v2 as { message?: string }).message ?? '', /freeze "peak" \(peak traffic\)/);

    // The server policy goes the same way.
    const put = await a.api('PUT', '/api/server-policy', { allowUrlHosts: ['127.0.0.1'] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    let hosts: unknown = null;
    const by = Date.now() + 5000;
    while (hosts === null && Date.now() < by) {
      const p = (await b.api<{ policy: { allowUrlHosts?: string[] } }>('GET', '/api/server-policy')).body.policy;
      hosts = p.allowUrlHosts ?? null;
      if (hosts === null) await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(hosts, ['127.0.0.1'], "b has a's server policy");

    // A replica started now catches up from the log before its first request.
    const c = await replica('c');
    const atStart = (await c.api<PolicyAnswer>('GET', '/api/policy')).body;
    assert.equal(atStart.policy?.name, 'ops', JSON.stringify(atStart));
    const server = (await c.api<{ policy: { allowUrlHosts?: string[] } }>('GET', '/api/server-policy')).body;
    assert.deepEqual(server.policy.allowUrlHosts, ['127.0.0.1']);
  },
);
