/**
 * Analytics inputs and the four keys against a real server and the real `sluice` command: a JSON
 * lines import (twice, with bad lines), git tags and commits read from a real repository, incidents
 * from an Alertmanager webhook, and the errors for bad windows and unknown names.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, ROOT, SluiceServer } from './support/sluice.ts';

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

const lines = [
  { type: 'commit', sha: 'a1b2c3', service: 'checkout', committedAt: '2026-05-31T16:00:00Z' },
  { type: 'commit', sha: 'b2c3d4', service: 'checkout', committedAt: '2026-06-01T08:00:00Z' },
  {
    type: 'deployment',
    id: 'd1',
    service: 'checkout',
    environment: 'production',
    team: 'payments',
    version: '2.0.0',
    startedAt: '2026-06-01T10:00:00Z',
    finishedAt: '2026-06-01T10:20:00Z',
    result: 'success',
    commits: ['a1b2c3', 'b2c3d4'],
  },
  {
    type: 'deployment',
    id: 'd2',
    service: 'checkout',
    environment: 'production',
    team: 'payments',
    version: '2.0.1',
    startedAt: '2026-06-01T14:00:00Z',
    finishedAt: '2026-06-01T14:10:00Z',
    result: 'rolledback',
    trafficRevertedAt: '2026-06-01T14:10:00Z',
    commits: [],
  },
  'not json at all',
  {
    type: 'deployment',
    id: 'd3',
    service: 'checkout',
    environment: 'production',
    version: '2.0.2',
    startedAt: '2026-06-03T10:00:00Z',
    finishedAt: '2026-06-03T09:00:00Z',
    result: 'success',
  },
  {
    type: 'deployment',
    id: 'd4',
    service: 'checkout',
    environment: 'production',
    team: 'payments',
    version: '2.0.2',
    startedAt: '2026-06-08T10:00:00Z',
    finishedAt: '2026-06-08T10:30:00Z',
    result: 'success',
    commits: ['b2c3d4'],
  },
  {
    type: 'incident',
    id: 'i1',
    service: 'checkout',
    openedAt: '2026-06-08T12:00:00Z',
    resolvedAt: '2026-06-08T12:40:00Z',
  },
].map((l) => (typeof l === 'string' ? l : JSON.stringify(l)));

test('analytics inputs and the four keys through the CLI and the API', { timeout: 120_000 }, async (t) => {
  const server = await SluiceServer.start();
  t.after(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), 'sluice-analytics-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'events.jsonl');
  writeFileSync(file, `${lines.join('\n')}\n`);

  await t.test(
    'an import reports each bad line with its number and imports the rest; a second import changes nothing',
    async () => {
      const first = await sluice(server, 'analytics', 'import', '-f', file);
      assert.equal(first.code, 1, first.stderr);
      assert.match(first.stdout, /deployments: 3 added, 0 unchanged/);
      assert.match(first.stdout, /commits: 2 added/);
      assert.match(first.stdout, /incidents: 1 added/);
      assert.match(first.stdout, /2 bad line\(s\)/);
      assert.match(first.stdout, new RegExp(`${file}:5: not JSON`));
      assert.match(first.stdout, new RegExp(`${file}:6: finishedAt 2026-06-03T09:00:00Z is before startedAt`));
      const again = await sluice(server, 'analytics', 'import', '-f', file, '-o', 'json');
      const s = JSON.parse(again.stdout) as {
        deployments: { added: number; unchanged: number };
        commits: { added: number };
        rejected: number;
      };
      assert.deepEqual([s.deployments.added, s.deployments.unchanged, s.commits.added, s.rejected], [0, 3, 0, 2]);
      // Each import is one event in the log, with its counts.
      const log = await (
        await fetch(`${server.url}/api/audit/export`, { headers: { authorization: `Bearer ${server.token}` } })
      ).text();
      const imports = log
        .split('\n')
        .filter((l) => l.includes('"analytics.imported"'))
        .map(
          (l) =>
            JSON.parse(l) as {
              service: string;
              source: string;
              added: number;
              unchanged: number;
              rejected: number;
              actor: string;
            },
        );
      assert.deepEqual(
        imports.map((e) => [e.service, e.source, e.added, e.unchanged, e.rejected, e.actor]),
        [
          ['_server', 'file', 6, 0, 2, 'e2e-test'],
          ['_server', 'file', 0, 6, 2, 'e2e-test'],
        ],
      );
    },
  );

  await t.test('the four keys of the window, with tiers and the counts they came from', async () => {
    const r = await sluice(
      server,
      'analytics',
      'dora',
      '--service',
      'checkout',
      '--env',
      'production',
      '--since',
      '2026-06-01',
      '--until',
      '2026-06-15',
      '-o',
      'json',
    );
    assert.equal(r.code, 0, r.stderr);
    const k = JSON.parse(r.stdout) as Record<string, any>;
    assert.deepEqual(k.deployments, { count: 3, succeeded: 2, rolledBack: 1 });
    assert.equal(k.deploymentFrequency.perDay, 3 / 14);
    assert.equal(k.deploymentFrequency.medianDeployDaysPerWeek, 1);
    assert.equal(k.deploymentFrequency.tier, 'high');
    // a1b2c3: 18h20m; b2c3d4: 2h20m (its second shipment by d4 does not count).
    assert.deepEqual(k.leadTime.counts, { commits: 2, withoutCommitTime: 0 });
    assert.equal(k.leadTime.medianS, (66_000 + 8400) / 2);
    assert.equal(k.leadTime.p90S, 66_000);
    // d2 rolled back, d4 followed by the incident: 2 of 3.
    assert.equal(k.changeFailureRate.value, 2 / 3);
    assert.deepEqual(k.changeFailureRate.counts, { deployments: 3, failed: 2, rolledBack: 1, followedByIncident: 1 });
    // d2 restored in 10 min (first traffic = its start), i1 in 40 min.
    assert.equal(k.timeToRestore.medianS, 1500);
    assert.equal(k.timeToRestore.tier, 'elite');
    assert.equal(k.rehearsed.available, false);
    const text = await sluice(
      server,
      'analytics',
      'dora',
      '--service',
      'checkout',
      '--since',
      '2026-06-01',
      '--until',
      '2026-06-15',
    );
    assert.match(text.stdout, /change failure rate\s+66\.7% \(2\/3/);
  });

  await t.test(
    'a line too large for one request is refused with its number; the lines around it are imported',
    async () => {
      const big = join(dir, 'big.jsonl');
      writeFileSync(
        big,
        [
          JSON.stringify({ type: 'incident', id: 'big-before', service: 'search', openedAt: '2026-07-01T10:00:00Z' }),
          JSON.stringify({
            type: 'commit',
            sha: 'feedface',
            service: 'search',
            committedAt: '2026-07-01T00:00:00Z',
            message: 'x'.repeat(5 * 1024 * 1024),
          }),
          JSON.stringify({ type: 'incident', id: 'big-after', service: 'search', openedAt: '2026-07-01T11:00:00Z' }),
          '',
        ].join('\n'),
      );
      const r = await sluice(server, 'analytics', 'import', '-f', big);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /incidents: 2 added/);
      assert.match(r.stdout, /commits: 0 added/);
      assert.match(r.stdout, /1 bad line\(s\)/);
      assert.match(
        r.stdout,
        new RegExp(`${big}:2: not imported: the line is 5\\.0 MiB, more than the server takes in one request`),
      );
    },
  );

  await t.test('bad windows and unknown names are clear errors', async () => {
    const backwards = await sluice(server, 'analytics', 'dora', '--since', '2026-07-01', '--until', '2026-06-01');
    assert.equal(backwards.code, 2);
    assert.match(backwards.stderr, /--since 2026-07-01 is not before --until 2026-06-01/);
    const api = await server.api<{ error: { code: string; message: string } }>(
      'GET',
      '/api/analytics/dora?since=2026-07-01&until=2026-06-01',
    );
    assert.equal(api.status, 400);
    assert.match(api.body.error.message, /since 2026-07-01T00:00:00.000Z is not before until/);
    const unknown = await sluice(
      server,
      'analytics',
      'dora',
      '--service',
      'nope',
      '--since',
      '2026-06-01',
      '--until',
      '2026-07-01',
    );
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /service "nope" has no deployments in the analytics history; known: checkout/);
    const env = await sluice(
      server,
      'analytics',
      'dora',
      '--env',
      'moon',
      '--since',
      '2026-06-01',
      '--until',
      '2026-07-01',
    );
    assert.match(env.stderr, /environment "moon" has no deployments in the analytics history; known: production/);
    const notRepo = await sluice(server, 'analytics', 'git', '--repo', dir, '--service', 'checkout');
    assert.equal(notRepo.code, 2);
    assert.match(notRepo.stderr, new RegExp(`--repo ${dir} is not a git repository`));
  });

  await t.test('an Alertmanager webhook opens and resolves an incident', async () => {
    const alert = (status: string, endsAt: string) => ({
      version: '4',
      status,
      alerts: [
        {
          status,
          labels: { alertname: 'HighErrorRate', service: 'checkout' },
          startsAt: '2026-06-10T09:00:00.123456789Z',
          endsAt,
          fingerprint: 'f00d',
        },
        { status, labels: { alertname: 'NoService' }, startsAt: '2026-06-10T09:00:00Z', fingerprint: 'beef' },
      ],
    });
    const opened = await server.api<{ incidents: { added: number }; rejected: number; errors: { message: string }[] }>(
      'POST',
      '/api/analytics/incidents',
      alert('firing', '0001-01-01T00:00:00Z'),
    );
    assert.equal(opened.status, 200, JSON.stringify(opened.body));
    assert.equal(opened.body.incidents.added, 1);
    assert.equal(opened.body.rejected, 1);
    assert.match(opened.body.errors[0]!.message, /alerts\[1\] \(NoService\) has no "service" label/);
    const resolved = await server.api<{ incidents: { updated: number } }>(
      'POST',
      '/api/analytics/incidents',
      alert('resolved', '2026-06-10T09:30:00Z'),
    );
    assert.equal(resolved.body.incidents.updated, 1);
    const k = (
      await server.api<Record<string, any>>(
        'GET',
        '/api/analytics/dora?service=checkout&since=2026-06-01&until=2026-06-15',
      )
    ).body;
    assert.deepEqual(k.timeToRestore.counts, { rollbacks: 1, incidents: 2, unresolvedIncidents: 0 });
    // On 2026-06-10 checkout did not deploy: its incident still counts (30 min), by service, by team and
    // for all services, and the same whether the window is asked alone or as a bucket.
    for (const filter of ['service=checkout', 'team=payments', '']) {
      const day = (
        await server.api<Record<string, any>>('GET', `/api/analytics/dora?${filter}&since=2026-06-10&until=2026-06-11`)
      ).body;
      assert.equal(day.deployments.count, 0, filter);
      assert.deepEqual(day.timeToRestore.counts, { rollbacks: 0, incidents: 1, unresolvedIncidents: 0 }, filter);
      assert.equal(day.timeToRestore.medianS, 1799.877, filter);
      const days = (
        await server.api<Record<string, any>>(
          'GET',
          `/api/analytics/dora?${filter}&since=2026-06-09&until=2026-06-12&bucket=day`,
        )
      ).body;
      assert.deepEqual(days.buckets[1].timeToRestore, day.timeToRestore, filter);
    }
  });

  await t.test(
    'GET /metrics has the flag evaluations applications report, per environment, flag and variant',
    async () => {
      const scrape = async () =>
        (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${server.token}` } })).text();
      assert.doesNotMatch(await scrape(), /sluice_flag_evaluations_total/, 'none before any flag is evaluated');
      const applied = await server.api('POST', '/api/apply', {
        file: 'flag.yaml',
        spec: [
          'apiVersion: sluice.dev/v1alpha1',
          'kind: FeatureFlag',
          'metadata: { name: new-cart }',
          'spec:',
          '  type: release',
          '  variants: { "on": true, "off": false }',
          '  defaultVariant: "off"',
          '  environments: { production: { enabled: true } }',
        ].join('\n'),
      });
      assert.equal(applied.status, 200, JSON.stringify(applied.body));
      const sdk = await fetch(`${server.url}/api/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ role: 'sdk', environment: 'production', name: 'cart-app' }),
      });
      const { token } = (await sdk.json()) as { token: string };
      const report = await fetch(`${server.url}/api/sdk/evaluations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          evaluations: [
            { flag: 'new-cart', variant: 'on', count: 7, errors: 1 },
            { flag: 'new-cart', variant: 'off', count: 3 },
          ],
        }),
      });
      assert.equal(report.status, 200, await report.text());
      const text = await scrape();
      assert.match(text, /^# TYPE sluice_flag_evaluations_total counter$/m);
      assert.match(text, /^sluice_flag_evaluations_total\{environment="production",flag="new-cart",variant="on"\} 7$/m);
      assert.match(
        text,
        /^sluice_flag_evaluations_total\{environment="production",flag="new-cart",variant="off"\} 3$/m,
      );
      assert.match(
        text,
        /^sluice_flag_evaluation_errors_total\{environment="production",flag="new-cart",variant="on"\} 1$/m,
      );
    },
  );

  await t.test('git tags and commits from a real repository give lead times to the versions', async () => {
    const repo = join(dir, 'repo');
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', repo, ...args], {
        env: {
          PATH: process.env.PATH!,
          GIT_CONFIG_GLOBAL: '/dev/null',
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@x',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@x',
        },
      });
    execFileSync('git', ['init', '-q', repo]);
    const commitAt = (when: string, msg: string) =>
      execFileSync('git', ['-C', repo, 'commit', '-q', '--allow-empty', '-m', msg], {
        env: {
          PATH: process.env.PATH!,
          GIT_CONFIG_GLOBAL: '/dev/null',
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@x',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@x',
          GIT_AUTHOR_DATE: when,
          GIT_COMMITTER_DATE: when,
        },
      });
    commitAt('2026-06-20T08:00:00Z', 'first');
    const untagged = await sluice(server, 'analytics', 'git', '--repo', repo, '--service', 'checkout');
    assert.equal(untagged.code, 1, 'a repository without tags imports nothing, and says so');
    assert.match(untagged.stdout, /has no tags: nothing imported .*sluice apply --commit SHA/);
    const badName = await sluice(server, 'analytics', 'git', '--repo', repo, '--service', 'Check Out');
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /--service "Check Out" is not a service name: lower-case letters, digits and dashes/);
    git('tag', 'v3.0.0');
    commitAt('2026-06-21T08:00:00Z', 'fix the cart');
    commitAt('2026-06-21T09:00:00Z', 'faster search');
    git('tag', 'v3.1.0');
    const r = await sluice(server, 'analytics', 'git', '--repo', repo, '--service', 'checkout', '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { commits: { added: number }; versions: { added: number } };
    assert.equal(s.commits.added, 3);
    assert.equal(s.versions.added, 3);
    const again = JSON.parse(
      (await sluice(server, 'analytics', 'git', '--repo', repo, '--service', 'checkout', '-o', 'json')).stdout,
    ) as { commits: { added: number } };
    assert.equal(again.commits.added, 0, 'reading the repository again changes nothing');
  });
});
