/**
 * Feature flags against a real server: applied with the CLI, changed with `sluice flag`, read by
 * the official OpenFeature OFREP provider (@openfeature/ofrep-provider with
 * @openfeature/server-sdk) with an sdk token, and OFREP's answers to bad requests, ETags on bulk,
 * the kill switch, stale and scan, and every change an event with its actor in the audited log.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OpenFeature } from '@openfeature/server-sdk';
import { CLI, ROOT, SluiceServer } from './support/sluice.ts';

const FLAG = `apiVersion: sluice.dev/v1alpha1
kind: FeatureFlag
metadata:
  name: new-checkout
spec:
  type: release
  owner: team-web
  description: One-page checkout
  variants: { "on": true, "off": false }
  defaultVariant: "off"
  environments:
    production:
      enabled: true
      rules:
        - name: staff
          when: [{ attribute: email, operator: ENDS_WITH, values: ["@example.com"] }]
          serve: "on"
        - name: ramp
          rollout: { percent: 25, stickiness: default, groupId: new-checkout }
          serve: "on"
    staging:
      enabled: true
---
apiVersion: sluice.dev/v1alpha1
kind: FeatureFlag
metadata:
  name: banner-color
spec:
  type: experiment
  variants: { red: "#f00", blue: "#00f" }
  defaultVariant: red
  environments:
    production:
      rules:
        - name: beta
          segments: [beta-testers]
          serve: blue
---
apiVersion: sluice.dev/v1alpha1
kind: Segment
metadata:
  name: beta-testers
spec:
  conditions: [{ attribute: plan, operator: IN, values: [beta] }]
`;

function sluice(server: SluiceServer, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: ROOT, env: { ...process.env, SLUICE_SERVER: server.url, SLUICE_TOKEN: server.token }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function ofrep(
  server: SluiceServer,
  token: string | null,
  path: string,
  body: string,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      ...(token !== null && { authorization: `Bearer ${token}` }),
      ...headers,
    },
  });
  const text = await res.text();
  return {
    status: res.status,
    etag: res.headers.get('etag'),
    body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>),
  };
}

test(
  'feature flags end to end: apply, OFREP with the official provider, CLI changes, the log',
  { timeout: 120_000 },
  async (t) => {
    const server = await SluiceServer.start();
    t.after(() => server.close());
    const dir = mkdtempSync(join(tmpdir(), 'sluice-flags-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'flags.yaml'), FLAG);

    const applied = await sluice(server, 'apply', '-f', join(dir, 'flags.yaml'));
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /flag\/new-checkout/);

    const created = await sluice(
      server,
      'token',
      'create',
      '--role',
      'sdk',
      '--env',
      'production',
      '--name',
      'web-app',
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /role sdk, environment production/);
    const sdk = created.stdout.trim().split('\n').at(-1)!;

    await t.test(
      'the official OFREP provider evaluates flags from the server: targeting, percentages, segments, unknown keys',
      async () => {
        await OpenFeature.setProviderAndWait(
          new OFREPProvider({ baseUrl: server.url, headers: [['Authorization', `Bearer ${sdk}`]] }),
        );
        const client = OpenFeature.getClient();
        const staff = await client.getBooleanDetails('new-checkout', false, {
          targetingKey: 'u-1',
          email: 'ann@example.com',
        });
        assert.deepEqual([staff.value, staff.variant, staff.reason], [true, 'on', 'TARGETING_MATCH']);
        // 25% of users, sticky: the same users on every call, about a quarter of them.
        let exposed = 0;
        for (let i = 0; i < 200; i++)
          if (await client.getBooleanValue('new-checkout', false, { targetingKey: `user-${i}` })) exposed++;
        assert.ok(exposed > 25 && exposed < 75, `${exposed} of 200 exposed at 25%`);
        const blue = await client.getStringDetails('banner-color', 'x', { targetingKey: 'u-2', plan: 'beta' });
        assert.deepEqual([blue.value, blue.variant], ['#00f', 'blue']);
        const missing = await client.getBooleanDetails('no-such-flag', true, { targetingKey: 'u-3' });
        assert.deepEqual([missing.value, missing.errorCode], [true, 'FLAG_NOT_FOUND']);
        const wrongType = await client.getNumberDetails('banner-color', 7, { targetingKey: 'u-3' });
        assert.deepEqual([wrongType.value, wrongType.errorCode], [7, 'TYPE_MISMATCH']);
        await OpenFeature.close();
      },
    );

    await t.test(
      'OFREP refuses bad requests in its own shapes, never a 500; bulk answers 304 to its ETag',
      async () => {
        const single = '/ofrep/v1/evaluate/flags/new-checkout';
        assert.equal((await ofrep(server, null, single, '{"context":{}}')).status, 401);
        assert.equal((await ofrep(server, 'sluice_nope', single, '{"context":{}}')).status, 401);
        assert.equal(
          (await ofrep(server, server.token, single, '{"context":{}}')).status,
          403,
          'an admin token is not an application',
        );
        assert.deepEqual((await ofrep(server, sdk, single, '{"context":')).body, {
          key: 'new-checkout',
          errorCode: 'PARSE_ERROR',
          errorDetails: (await ofrep(server, sdk, single, '{"context":')).body!.errorDetails,
        });
        assert.equal((await ofrep(server, sdk, single, '{"context":')).status, 400);
        const invalid = await ofrep(server, sdk, single, '{"context":[1,2]}');
        assert.deepEqual([invalid.status, invalid.body!.errorCode], [400, 'INVALID_CONTEXT']);
        const badKey = await ofrep(server, sdk, single, '{"context":{"targetingKey":42}}');
        assert.deepEqual([badKey.status, badKey.body!.errorCode], [400, 'INVALID_CONTEXT']);
        const notFound = await ofrep(server, sdk, '/ofrep/v1/evaluate/flags/nope', '{"context":{}}');
        assert.deepEqual(
          [notFound.status, notFound.body],
          [404, { key: 'nope', errorCode: 'FLAG_NOT_FOUND', errorDetails: 'no flag "nope" in environment production' }],
        );
        const ok = await ofrep(server, sdk, single, '{"context":{"targetingKey":"u","email":"a@example.com"}}');
        assert.deepEqual(ok.body, {
          key: 'new-checkout',
          value: true,
          reason: 'TARGETING_MATCH',
          variant: 'on',
          metadata: { rule: 'staff' },
        });

        const bulk = await ofrep(
          server,
          sdk,
          '/ofrep/v1/evaluate/flags',
          '{"context":{"targetingKey":"u","plan":"beta"}}',
        );
        assert.equal(bulk.status, 200);
        assert.deepEqual(
          (bulk.body!.flags as { key: string; variant: string }[]).map((f) => [f.key, f.variant]),
          [
            ['banner-color', 'blue'],
            ['new-checkout', 'off'],
          ],
        );
        assert.ok(bulk.etag !== null);
        assert.equal(
          (await ofrep(server, sdk, '/ofrep/v1/evaluate/flags', '{"context":{}}', { 'if-none-match': bulk.etag }))
            .status,
          304,
        );
        const set = await sluice(server, 'flag', 'set', 'new-checkout', '--env', 'production', '--percent', '100');
        assert.equal(set.code, 0, set.stderr);
        const after = await ofrep(server, sdk, '/ofrep/v1/evaluate/flags', '{"context":{"targetingKey":"u"}}', {
          'if-none-match': bulk.etag,
        });
        assert.equal(after.status, 200, 'a change gives a new ETag');
        assert.notEqual(after.etag, bulk.etag);
        assert.equal(
          (after.body!.flags as { key: string; value: unknown }[]).find((f) => f.key === 'new-checkout')?.value,
          true,
        );
      },
    );

    await t.test(
      'the kill switch: disable serves the off variant at once with reason DISABLED; enable brings the rules back',
      async () => {
        const off = await sluice(
          server,
          'flag',
          'disable',
          'new-checkout',
          '--env',
          'production',
          '--reason',
          'checkout errors',
        );
        assert.equal(off.code, 0, off.stderr);
        assert.match(off.stdout, /production: DISABLED \(kill switch\)/);
        const r = await ofrep(
          server,
          sdk,
          '/ofrep/v1/evaluate/flags/new-checkout',
          '{"context":{"targetingKey":"u","email":"a@example.com"}}',
        );
        assert.deepEqual([r.body!.value, r.body!.reason], [false, 'DISABLED']);
        assert.equal((await sluice(server, 'flag', 'enable', 'new-checkout', '--env', 'production')).code, 0);
        const back = await ofrep(
          server,
          sdk,
          '/ofrep/v1/evaluate/flags/new-checkout',
          '{"context":{"targetingKey":"u","email":"a@example.com"}}',
        );
        assert.equal(back.body!.reason, 'TARGETING_MATCH');
      },
    );

    await t.test('the CLI: list, get, bad flags refused with what is valid, stale (none yet), scan', async () => {
      const list = await sluice(server, 'flag', 'list');
      assert.match(list.stdout, /new-checkout\s+release\s+team-web\s+production: staff, ramp; staging: default/);
      assert.match(
        (await sluice(server, 'flag', 'get', 'banner-color')).stdout,
        /beta: 0 condition\(s\), segments beta-testers, 100% → "blue"/,
      );
      const bad = await sluice(server, 'flag', 'set', 'new-checkout', '--env', 'production', '--percent', '150');
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--percent "150" is not a percent; give 0 to 100/);
      const noEnv = await sluice(server, 'flag', 'set', 'new-checkout', '--env', 'qa', '--percent', '10');
      assert.match(noEnv.stderr, /flag new-checkout has no environment "qa"; it has production, staging/);
      assert.match((await sluice(server, 'flag', 'stale')).stdout, /no flag is past its expected lifetime/);
      const src = join(dir, 'src');
      mkdirSync(src);
      writeFileSync(join(src, 'checkout.ts'), "const on = await client.getBooleanValue('new-checkout', false, ctx);\n");
      const scan = await sluice(server, 'flag', 'scan', src);
      assert.match(scan.stdout, /checkout\.ts:1:\d+: new-checkout/);
      assert.match(scan.stdout, /flags no code in .* uses: banner-color/);
    });

    await t.test('apply refuses a bad flag with file:line and what is valid; an unknown segment is named', async () => {
      writeFileSync(
        join(dir, 'bad.yaml'),
        FLAG.replace('operator: ENDS_WITH', 'operator: ENDZ_WITH').replace('percent: 25', 'percent: 250'),
      );
      const bad = await sluice(server, 'apply', '-f', join(dir, 'bad.yaml'));
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /bad\.yaml:16:\d+: .*unknown operator "ENDZ_WITH" \(did you mean "ENDS_WITH"\?\)/);
      assert.match(bad.stderr, /bad\.yaml:19:\d+: .*a percent is 0 to 100/);
      writeFileSync(join(dir, 'seg.yaml'), FLAG.split('---')[1]!.replace('[beta-testers]', '[nobody]'));
      const seg = await sluice(server, 'apply', '-f', join(dir, 'seg.yaml'));
      assert.match(
        seg.stderr,
        /seg\.yaml: spec\.environments\.production\.rules\[0\]\.segments\[0\]: no segment "nobody"; known: beta-testers/,
      );
    });

    await t.test(
      'an sdk token reads its flags and nothing else; every change is an event with its actor in the verified log',
      async () => {
        const res = await fetch(`${server.url}/api/services`, { headers: { authorization: `Bearer ${sdk}` } });
        assert.equal(res.status, 403);
        const { body } = await server.api<{ events: { type: string; actor: string }[] }>(
          'GET',
          '/api/flags/new-checkout/events',
        );
        assert.deepEqual(
          body.events.map((e) => `${e.type} by ${e.actor}`),
          [
            'flag.applied by e2e-test',
            'flag.percentSet by e2e-test',
            'flag.disabled by e2e-test',
            'flag.enabled by e2e-test',
          ],
        );
        const verify = await server.api<{ ok: boolean }>('GET', '/api/audit/verify');
        assert.equal(verify.body.ok, true);
        assert.equal((await sluice(server, 'flag', 'archive', 'banner-color')).code, 0);
        const gone = await ofrep(server, sdk, '/ofrep/v1/evaluate/flags/banner-color', '{"context":{}}');
        assert.equal(gone.body!.errorCode, 'FLAG_NOT_FOUND');
      },
    );
  },
);
