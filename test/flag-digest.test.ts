/**
 * The weekly stale-flag digest: each owner's stale flags, recorded in the log and sent through real
 * webhook notifiers to real HTTP receivers — to the notifiers of the services labelled with that
 * owner, every notifier when the owner is on none — once per week.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { FlagRecord } from '../src/core/flags/flag-set.ts';
import type { FeatureFlag } from '../src/core/flags/model.ts';
import { StaleDigestSchedule } from '../src/flags/stale-digest-schedule.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { emptyState } from '../src/core/release/state.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 2, 9); // Wednesday: the week of 2026-11-30

interface Received {
  type: string;
  text: string;
  event: { owner: string; week: string; flags: string[]; markdown: string };
}

async function receiver(t: TestContext): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(JSON.parse(body) as Received);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

function flag(name: string, owner: string | null, ageDays: number): FlagRecord {
  const f: FeatureFlag = {
    name,
    type: 'release',
    owner,
    description: null,
    variants: { on: true, off: false },
    defaultVariant: 'off',
    offVariant: 'off',
    environments: { production: { enabled: true, rules: [] } },
    lifetimeDays: 40,
  };
  return { flag: f, createdAt: NOW - ageDays * DAY, createdBy: 'a', updatedAt: NOW, updatedBy: 'a', archived: false };
}

test('the stale-flag digest goes to each owner, once per week', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-digest-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new SqliteStore(join(dir, 'sluice.db'));
  t.after(() => store.close());
  const web = await receiver(t);
  const pay = await receiver(t);
  const service = async (name: string, team: string, url: string, events: string[]) =>
    store.putService({
      name,
      spec: {
        metadata: { name, labels: { team } },
        spec: {
          notifications: [
            // As the store holds a spec: parsed, its events expanded.
            {
              driver: 'webhook',
              url,
              format: 'json',
              events,
              timeout: 5000,
              retry: { attempts: 2, initialDelay: 100, maxDelay: 200 },
              queueSize: 10,
              headers: {},
            },
          ],
        },
      },
      baseDir: dir,
      file: null,
      revisionKey: '1',
      updatedAt: NOW,
    });
  const flags = [flag('one-page', 'team-web', 90), flag('fresh', 'team-web', 3), flag('ledger-v2', 'team-pay', 60)];
  flags.push(flag('orphan', null, 50));
  let now = NOW;
  const schedule = new StaleDigestSchedule({
    flags: { list: () => flags },
    store,
    dataDir: dir,
    now: () => now,
    record: async (e, actor) => (await store.commit('_server', [{ ...e, at: now, actor }], emptyState('_server')))[0]!,
    log: () => undefined,
  });
  t.after(() => schedule.stop());

  await service('web', 'team-web', web.url, ['release.started']);
  assert.deepEqual(await schedule.runOnce(), [], 'no notifier selects flag.staleDigest: nothing sent');

  await service('web', 'team-web', web.url, ['flag.staleDigest']);
  await service('ledger', 'team-pay', pay.url, ['flag.applied', 'flag.staleDigest']);
  const events = await schedule.runOnce();
  assert.deepEqual(
    events.map((e) => [e.type, e.service, e.type === 'flag.staleDigest' ? e.owner : '']),
    [
      ['flag.staleDigest', '_server', '(no owner)'],
      ['flag.staleDigest', '_server', 'team-pay'],
      ['flag.staleDigest', '_server', 'team-web'],
    ],
  );
  const deadline = Date.now() + 15_000;
  while ((web.received.length < 2 || pay.received.length < 2) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  const got = (r: Received[]) => r.map((x) => `${x.event.owner}:${x.event.flags.join(',')}`).sort();
  assert.deepEqual(got(web.received), ['(no owner):orphan', 'team-web:one-page']);
  assert.deepEqual(got(pay.received), ['(no owner):orphan', 'team-pay:ledger-v2']);
  assert.equal(web.received[0]!.type, 'flag.staleDigest');
  assert.equal(web.received.find((x) => x.event.owner === 'team-web')!.event.week, '2026-11-30T00:00:00.000Z');
  assert.match(
    web.received.find((x) => x.event.owner === 'team-web')!.text,
    /1 potentially stale flag owned by team-web[\s\S]*\| one-page \| release \| 90 days \| 50 days past 40 \|/,
  );
  const logged = await store.events({ service: '_server' });
  assert.equal(logged.filter((e) => e.type === 'flag.staleDigest').length, 3, 'each digest is in the log');

  // Another replica (its own data dir, the same log): the log is the mark, so it sends nothing again.
  const otherDir = mkdtempSync(join(tmpdir(), 'sluice-digest-other-'));
  t.after(() => rmSync(otherDir, { recursive: true, force: true }));
  const other = new StaleDigestSchedule({
    flags: { list: () => flags },
    store,
    dataDir: otherDir,
    now: () => now,
    record: async () => assert.fail('the other replica recorded a digest already sent'),
    log: () => undefined,
  });
  t.after(() => other.stop());
  assert.deepEqual(await other.runOnce(), [], 'sent once, whichever replica looks');
  now += DAY;
  assert.deepEqual(await schedule.runOnce(), [], 'sent once per week');
  now += 6 * DAY;
  assert.equal((await schedule.runOnce()).length, 3, 'the next week, again');
});
