/**
 * Documents and retrospectives of governed releases, against a real server and the real `sluice`
 * command: an override of production's approvals gate opens a retrospective naming the release it
 * lets through, whose plan and retrospective carry the plan's risk, gates and override (read from
 * the service's governance log); a promote past missing evidence in production opens another; the
 * base service's name says which environment to ask for.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { callAs, envSpec, type ErrorAnswer, type PlanAnswer } from './support/environments.ts';
import { CLI, freePort, ROOT, SluiceServer } from './support/sluice.ts';

interface Ev {
  seq: number;
  service: string;
  type: string;
  at: number;
  id?: string;
  target?: string;
  release?: number | null;
  trigger?: string;
  reason?: string;
}
interface Doc {
  kind: string;
  release: number | null;
  generatedFrom: { seq: number; hash: string };
  sections: { heading: string; body: any }[];
  markdown: string;
}

function sluice(server: SluiceServer, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: ROOT, env: { ...process.env, SLUICE_SERVER: server.url, SLUICE_TOKEN: server.token }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test(
  'governed releases: overrides open retrospectives, and documents carry the plan',
  { timeout: 150_000 },
  async (t) => {
    const server = await SluiceServer.start();
    t.after(() => server.close());
    const [stagingPort, productionPort] = [await freePort(), await freePort()];
    const dora = await server.createToken('deployer', 'dora');
    const alice = await server.createToken('approver', 'alice');
    const spec = (version: string) =>
      envSpec({ version, stagingPort, productionPort, approvals: 1, labels: { area: 'payments', owner: 'erin' } });
    /** The whole log, from the audit trail (the governance log `shop` and `_server` have no service route). */
    const log = async () =>
      (
        await (
          await fetch(`${server.url}/api/audit/export`, { headers: { authorization: `Bearer ${server.token}` } })
        ).text()
      )
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Ev);
    const events = async (service: string) => (await log()).filter((e) => e.service === service);
    const retrospectives = async () => (await log()).filter((e) => e.type === 'retrospective.opened');
    const doc = async (kind: string, service: string) => {
      const r = await sluice(server, 'doc', kind, service, '-o', 'json');
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as Doc;
    };
    const section = (d: Doc, heading: string) => d.sections.find((s) => s.heading === heading)?.body;

    await server.apply(spec('1.0.0'));
    await server.waitForPhase('Healthy', 30_000, 'shop--staging');

    await t.test(
      'an override of the approvals gate opens a retrospective for the release it lets through',
      async () => {
        const asked = await callAs<PlanAnswer>(server, dora, 'POST', '/api/services/shop/releases', {
          version: '1.0.0',
          to: 'production',
        });
        assert.equal(asked.status, 202, JSON.stringify(asked.body));
        const o = await callAs<PlanAnswer & ErrorAnswer>(server, alice, 'POST', '/api/services/shop/override', {
          environment: 'production',
          gate: 'approvals',
          reason: 'the outage needs this now',
        });
        assert.equal(o.status, 200, JSON.stringify(o.body));
        await server.waitForPhase('Healthy', 30_000, 'shop--production');
        let opened: Ev | undefined;
        for (let i = 0; i < 50 && opened === undefined; i++) {
          opened = (await retrospectives()).find((e) => e.trigger === 'override');
          if (opened === undefined) await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(opened, 'a retrospective was opened for the override');
        assert.equal(opened.target, 'shop--production');
        assert.equal(opened.id, `shop-retro-${o.body.postmortem}`);
        assert.match(
          opened.reason!,
          /alice overrode gate approvals to release 1\.0\.0 to production: the outage needs this now/,
        );
      },
    );

    await t.test(
      'its plan and retrospective carry the plan: risk, gates, the override, a timeline from the log',
      async () => {
        const plan = await doc('plan', 'shop--production');
        assert.deepEqual(section(plan, 'Risk'), {
          level: 'high',
          why: 'derived from labels: payments',
          environment: 'production',
          'asked by': 'dora',
        });
        const gates = section(plan, 'Gates and approvals') as string[];
        assert.ok(
          gates.some((g) => /^approvals: overridden/.test(g)),
          gates.join('\n'),
        );
        assert.ok(gates.some((g) => /^gate approvals overridden by alice at .*: the outage needs this now$/.test(g)));
        assert.ok(
          (section(plan, 'Rollback contract') as string[]).includes(
            "Rule error_rate: fails when the canary's error rate (counting 5xx, connect) is above baseline + 2.00%.",
          ),
        );

        const retro = await doc('retro', 'shop--production');
        assert.match(section(retro, 'Summary') as string, /trigger: override \(alice overrode gate approvals/);
        // The timeline is the log's: the plan's events from `shop`, then the release's from `shop--production`.
        const log = [...(await events('shop')), ...(await events('shop--production'))];
        const bySeq = new Map(log.map((e) => [e.seq, e]));
        const timeline = section(retro, 'Timeline') as { seq: number; at: string; event: string }[];
        for (const row of timeline) {
          const e = bySeq.get(row.seq);
          assert.ok(e, `timeline row ${row.seq} is an event of shop or shop--production`);
          assert.equal(row.at, new Date(e.at).toISOString());
        }
        const seqs = timeline.map((r) => r.seq);
        assert.deepEqual(
          seqs,
          [...seqs].sort((a, b) => a - b),
        );
        const types = seqs.map((s) => bySeq.get(s)!.type);
        assert.equal(types[0], 'plan.requested');
        assert.ok(
          types.includes('gate.overridden') && types.includes('release.started') && types.includes('release.succeeded'),
        );
        // Only this plan's events: the staging deploy's are not there.
        assert.ok(timeline.every((r) => ['shop', 'shop--production'].includes(bySeq.get(r.seq)!.service)));
        const verify = await server.api<{ ok: boolean }>(
          'GET',
          `/api/audit/verify?anchor=${retro.generatedFrom.seq}:${retro.generatedFrom.hash}`,
        );
        assert.equal(verify.body.ok, true);
      },
    );

    await t.test("the base service's name says which environments to ask for", async () => {
      const r = await sluice(server, 'doc', 'retro', 'shop');
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /shop runs as environments shop--staging, shop--production: .*name one, e\.g\. sluice doc retro shop--production/,
      );
    });

    await t.test('the runbook lists the drills run against the service with their last results', async () => {
      const before = await doc('runbook', 'shop--production');
      assert.match(
        section(before, 'Drills and their last results') as string,
        /^No drill or rollback rehearsal recorded for shop--production yet/,
      );
      const dir = mkdtempSync(join(tmpdir(), 'sluice-drill-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const file = join(dir, 'drill.yaml');
      writeFileSync(
        file,
        [
          'apiVersion: sluice.dev/v1alpha1',
          'kind: GameDay',
          'metadata: { name: shop-errors }',
          'spec:',
          '  service: shop--production',
          '  hypothesis:',
          '    probes:',
          `      - { name: home, http: { url: "http://127.0.0.1:${productionPort}/", expectStatus: 200 }, every: 200ms, tolerance: 50%, weight: 1 }`,
          '  method:',
          '    - fault: { target: stable, errors: 503, percent: 10, for: 2s }',
        ].join('\n'),
      );
      const run = await sluice(server, 'gameday', 'run', '-f', file, '--wait');
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const after = await doc('runbook', 'shop--production');
      const drills = section(after, 'Drills and their last results') as Record<string, unknown>[];
      assert.equal(drills.length, 1, JSON.stringify(drills));
      assert.equal(drills[0]!.drill, 'shop-errors');
      assert.equal(drills[0]!.lastRun, 1);
      assert.match(String(drills[0]!.result), /^passed: .*score \d+/);
      assert.equal(drills[0]!.command, 'sluice gameday show shop-errors --run 1');
      // Another service's runbook does not list it.
      assert.match(
        section(await doc('runbook', 'shop--staging'), 'Drills and their last results') as string,
        /^No drill/,
      );
    });

    await t.test('a promote past missing evidence in production is an override: it opens a retrospective', async () => {
      await server.apply(spec('1.1.0'));
      await server.waitFor((s) => s.phase === 'Paused', 'staging canary paused', 30_000, 'shop--staging');
      await server.api('POST', '/api/services/shop--staging/promote', { full: true });
      await server.waitFor((s) => s.stableVersion === '1.1.0', 'staging on 1.1.0', 30_000, 'shop--staging');
      // Staging asks for no approvals: its promote past missing evidence opened nothing.
      assert.equal((await retrospectives()).length, 1);
      await callAs(server, dora, 'POST', '/api/services/shop/releases', { version: '1.1.0', to: 'production' });
      // High risk (the payments label): two approvals.
      await callAs(server, alice, 'POST', '/api/services/shop/approve', { environment: 'production' });
      const bob = await server.createToken('approver', 'bob');
      const approved = await callAs<PlanAnswer>(server, bob, 'POST', '/api/services/shop/approve', {
        environment: 'production',
      });
      assert.equal(approved.body.outcome, 'started', JSON.stringify(approved.body));
      await server.waitFor(
        (s) => s.phase === 'Paused' && s.canaryVersion === '1.1.0',
        'production canary at its pause',
        30_000,
        'shop--production',
      );
      const promoted = await callAs(server, alice, 'POST', '/api/services/shop--production/promote', {
        full: true,
        reason: 'hotfix, verified by hand',
      });
      assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
      await server.waitFor((s) => s.stableVersion === '1.1.0', 'production on 1.1.0', 30_000, 'shop--production');
      let opened: Ev | undefined;
      for (let i = 0; i < 50 && opened === undefined; i++) {
        opened = (await retrospectives()).find((e) => e.target === 'shop--production' && e.release === 2);
        if (opened === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(opened, JSON.stringify(await retrospectives()));
      assert.equal(opened.trigger, 'override');
      assert.match(
        opened.reason!,
        /alice promoted release 2 past error_rate without evidence: hotfix, verified by hand/,
      );
      const retro = await doc('retro', 'shop--production');
      assert.equal(retro.release, 2);
      assert.deepEqual(
        (section(retro, 'Trigger') as string[]).map((l) => l.replace(/ at \S+/, '')),
        ['alice promoted from step 2 without evidence for error_rate: hotfix, verified by hand'],
      );
      const schedule = await doc('schedule', 'shop--production');
      const rows = section(schedule, 'Steps') as { plannedStart: string; actualStart: string | null }[];
      assert.equal(rows[0]!.plannedStart, rows[0]!.actualStart, 'the first step is planned when it started');
      assert.equal(rows[1]!.plannedStart, rows[0]!.actualStart, 'a weight change takes no planned time');
    });
  },
);
