/**
 * External signals end to end: a support tool posts complaints to the API while a canary takes
 * real traffic, and the signal rule rolls the release back with the signals as its evidence.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { deployedServer, ROOT, serviceSpec, type SluiceServer } from './support/sluice.ts';
import { startLoad } from './support/load.ts';

const contract = `    interval: 250ms
    window: 5s
    minSamples: 20
    rules:
      - { metric: error_rate, failIf: { above: baseline, by: 0.05 } }
      - { signal: customer_complaint, failIf: { count: 3, within: 1m } }`;

/** The signals `curl` of docs/spec.md, run as written against `server` with a deployer token in SLUICE_TOKEN. */
async function docsCurl(server: SluiceServer): Promise<string> {
  const doc = readFileSync(join(ROOT, 'docs/spec.md'), 'utf8');
  const command = /^curl -X POST http:\/\/127\.0\.0\.1:7070\/api\/services\/checkout\/signals[^`]*?(?=\n```)/m.exec(
    doc,
  )?.[0];
  assert.ok(command, 'docs/spec.md has the signals curl');
  const token = await server.createToken('deployer', 'zendesk');
  return new Promise((resolve, reject) => {
    execFile(
      'sh',
      ['-c', command.replace('http://127.0.0.1:7070', server.url)],
      { env: { ...process.env, SLUICE_TOKEN: token }, timeout: 10_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}

test(
  'three complaints within a minute roll the canary back; signals outside a release are only recorded',
  { timeout: 120_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t, { contract, instances: 1 });
    const early = await server.api<{ counted: boolean }>('POST', '/api/services/checkout/signals', {
      signal: 'customer_complaint',
      detail: 'before any release',
    });
    assert.equal(early.status, 200);
    assert.equal(early.body.counted, false);
    // The documented curl is accepted as written (it once had no Authorization header and got 401).
    assert.equal((JSON.parse(await docsCurl(server)) as { counted?: boolean }).counted, false);

    const load = startLoad({ url: `http://127.0.0.1:${listenPort}/`, rps: 100, durationMs: 60_000 });
    t.after(() => load.stop());
    await server.apply(
      serviceSpec({ version: '2.0.0', listenPort, instances: 1, contract, steps: ['setWeight: 20', 'pause: {}'] }),
    );
    await server.waitFor((s) => s.phase === 'Paused', 'the canary paused at 20%');

    for (const n of [1, 2]) {
      const r = await server.api<{ counted: boolean; release: string }>('POST', '/api/services/checkout/signals', {
        signal: 'customer_complaint',
        detail: `ticket ${n}`,
        source: 'zendesk',
      });
      assert.equal(r.body.counted, true);
    }
    await new Promise((r) => setTimeout(r, 600));
    assert.equal((await server.status()).phase, 'Paused', 'two complaints stay below the limit');
    await server.api('POST', '/api/services/checkout/signals', { signal: 'customer_complaint', detail: 'ticket 3' });
    const s = await server.waitForPhase('RolledBack', 10_000);
    assert.equal(s.lastRollback?.trigger, 'customer_complaint');
    assert.match(s.lastRollback?.reason ?? '', /3 customer_complaint signal\(s\) within 60s: reaches the limit of 3/);
    assert.equal(s.weights['1.0.0'], 100);

    const bad = await server.api<{ error: { code: string; message: string } }>(
      'POST',
      '/api/services/checkout/signals',
      { signal: 'Customer Complaint' },
    );
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /signal/);
    const events = await server.api<{ events: { type: string; source?: string }[] }>(
      'GET',
      '/api/services/checkout/events?limit=10000',
    );
    assert.equal(events.body.events.filter((e) => e.type === 'signal.received').length, 5);
  },
);
