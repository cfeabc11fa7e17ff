import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import Fastify from 'fastify';
import { registerCalendarRoutes } from './calendar-routes.ts';
import { errorHandler } from './errors.ts';

const CLI = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url));
const POLICY = `apiVersion: sluice.dev/v1alpha1
kind: ReleasePolicy
metadata: { name: default }
spec:
  windows:
    - { name: workdays, kind: allow, rrule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", start: "2026-01-05T09:00", duration: 8h, timeZone: Europe/Berlin }
    - { name: friday-evening, kind: deny, rrule: "FREQ=WEEKLY;BYDAY=FR", start: "2026-01-02T15:00", duration: 9h, timeZone: America/New_York, services: [payments] }
  freezes:
    - { name: black-friday, from: "2026-11-26T00:00:00Z", until: "2026-11-30T00:00:00Z", reason: peak traffic, services: [checkout] }
`;

async function app(t: { after: (fn: () => unknown) => void }, policy: string | null, now: number) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-calendar-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  if (policy !== null) writeFileSync(join(dir, 'release-policy.yaml'), policy);
  const a = Fastify();
  a.setErrorHandler(errorHandler);
  registerCalendarRoutes(a, dir, () => now);
  t.after(() => a.close());
  return { app: a, dir };
}

test('GET /api/calendar lists the windows and freezes ahead, and whether a service may release now', async (t) => {
  const { app: a } = await app(t, POLICY, Date.parse('2026-11-23T07:30:00Z'));
  const res = await a.inject({ url: '/api/calendar?days=7&service=checkout' });
  assert.equal(res.statusCode, 200);
  const c = res.json();
  assert.equal(c.policy, 'default');
  assert.deepEqual(c.state, {
    open: false,
    reason: 'outside every allow window; next: "workdays" at Mon, 23/11/2026, 09:00 Europe/Berlin',
    until: '2026-11-23T08:00:00.000Z',
  });
  assert.deepEqual(
    c.spans.map((s: { kind: string; name: string; start: string }) => `${s.kind} ${s.name} ${s.start}`),
    [
      'allow workdays 2026-11-23T08:00:00.000Z',
      'allow workdays 2026-11-24T08:00:00.000Z',
      'allow workdays 2026-11-25T08:00:00.000Z',
      'freeze black-friday 2026-11-26T00:00:00.000Z',
      'allow workdays 2026-11-26T08:00:00.000Z',
      'allow workdays 2026-11-27T08:00:00.000Z',
    ],
    'the deny window for payments is not listed for checkout',
  );
  const all = (await a.inject({ url: '/api/calendar?days=7' })).json();
  assert.ok(all.spans.some((s: { name: string }) => s.name === 'friday-evening'));
  assert.equal(all.state, undefined);
});

test('no policy file: nothing restricts releases; an invalid one is a 400 naming file and field', async (t) => {
  const none = await app(t, null, 0);
  assert.deepEqual((await none.app.inject({ url: '/api/calendar?service=checkout' })).json().state, {
    open: true,
    reason: 'no window applies',
    until: null,
  });
  const bad = await app(t, POLICY.replace('Europe/Berlin', 'Europe/Atlantis'), 0);
  const res = await bad.app.inject({ url: '/api/calendar' });
  assert.equal(res.statusCode, 400);
  assert.match(
    res.json().error.message,
    /release-policy\.yaml: spec\.windows\.0\.timeZone: timeZone is an IANA time zone/,
  );
  assert.equal((await none.app.inject({ url: '/api/calendar?days=0' })).statusCode, 400);
});

test('sluice calendar -f evaluates a policy file without a server', async (t) => {
  const { dir } = await app(t, POLICY, 0);
  const run = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [CLI, 'calendar', ...args], { timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
  const ok = await run('-f', join(dir, 'release-policy.yaml'), '--days', '3', '--service', 'checkout');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^policy default · /);
  assert.match(ok.stdout, /^checkout: (OPEN|CLOSED) — /m);
  assert.match(ok.stdout, /^KIND +NAME +FROM \(local\) +UNTIL \(local\) +SERVICES$/m);
  writeFileSync(join(dir, 'bad.yaml'), POLICY.replace('BYDAY=FR"', 'BYDAY=XX"'));
  const bad = await run('-f', join(dir, 'bad.yaml'));
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /bad\.yaml: spec\.windows\.1\.rrule: Invalid BYDAY value: XX/);
  assert.equal((await run('--days', 'many')).code, 2);
});
