import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { describe, test, type TestContext } from 'node:test';
import type { RollbackLog } from '../../../core/types.ts';
import { waitFor } from '../../targets/fixtures/wait-for.ts';
import type { NotificationEvent } from '../types.ts';
import { verifySignature, webhookNotifier } from './index.ts';

type Answer = number | 'hang';
interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A real HTTP receiver; `answer(n)` says what the n-th request (0-based) gets. */
async function receiver(t: TestContext, answer: (n: number) => Answer = () => 200) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const n = received.push({ headers: req.headers, body, at: Date.now() }) - 1;
      const a = answer(n);
      if (a !== 'hang') res.writeHead(a, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T0K3N`, received };
}

function notifier(t: TestContext, config: Record<string, unknown>) {
  const logs: Array<{ level: string; message: string; detail?: Record<string, unknown> }> = [];
  const n = webhookNotifier.create(webhookNotifier.config.parse({ driver: 'webhook', ...config }), {
    service: 'checkout',
    serviceDir: '/nonexistent',
    log: (level, message, detail) => void logs.push({ level, message, detail }),
  });
  t.after(() => n.close());
  return { n, logs };
}

let seq = 0;
const at = Date.UTC(2026, 10, 22, 3, 0, 0);
const ev = (body: Record<string, unknown>): NotificationEvent =>
  ({ service: 'checkout', at, actor: 'sluice-controller', seq: ++seq, ...body }) as NotificationEvent;
const log: RollbackLog = {
  kind: 'contract',
  trigger: 'error_rate',
  reason: 'error_rate 0.12 is above the threshold 0.03 (baseline 0.02 + 0.01)',
  verdicts: [],
  actor: 'sluice-controller',
  detectedAt: at,
  trafficRevertedAt: null,
  canaryStoppedAt: null,
  revertMs: null,
};
const stepStarted = () => ev({ type: 'step.started', index: 0, step: { kind: 'setWeight', weight: 10 } });
const paused = () => ev({ type: 'release.paused', reason: 'step', detail: 'waiting for promote' });
const rollback = () => ev({ type: 'rollback.started', log, status: 'RolledBack' });
const shifted = () => ev({ type: 'traffic.shifted', weights: { '1': 90, '2': 10 }, reason: 'step 1' });

describe('webhook notifier, against a real HTTP receiver', { timeout: 30_000 }, () => {
  test('posts the JSON envelope, signed: t=<unix>,v1=HMAC-SHA256(secret, "<t>.<body>")', async (t) => {
    const r = await receiver(t);
    const dir = mkdtempSync(join(tmpdir(), 'sluice-webhook-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'key'), 'whsec_test\n', { mode: 0o600 });
    const { n } = notifier(t, { url: r.url, secretFile: join(dir, 'key'), headers: { 'X-Team': 'payments' } });
    n.notify(rollback());
    await waitFor('one delivery', () => r.received.length === 1);
    const { headers, body } = r.received[0]!;
    // Verified independently of the notifier's own code first.
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(headers['x-sluice-signature']));
    assert.ok(m, `signature header: ${headers['x-sluice-signature']}`);
    assert.equal(m[2], createHmac('sha256', 'whsec_test').update(`${m[1]}.${body}`).digest('hex'));
    assert.ok(Math.abs(Number(m[1]) - Date.now() / 1000) < 60, 'timestamp is now');
    assert.equal(
      verifySignature('whsec_test', headers['x-sluice-signature'] as string, body, Math.floor(Date.now() / 1000)),
      null,
    );
    assert.equal(
      verifySignature('other', headers['x-sluice-signature'] as string, body, Math.floor(Date.now() / 1000)),
      'signature does not match',
    );
    assert.equal(
      verifySignature(
        'whsec_test',
        headers['x-sluice-signature'] as string,
        body.replace('0.12', '0.01'),
        Math.floor(Date.now() / 1000),
      ),
      'signature does not match',
    );
    assert.match(
      String(
        verifySignature(
          'whsec_test',
          headers['x-sluice-signature'] as string,
          body,
          Math.floor(Date.now() / 1000) + 3600,
        ),
      ),
      /more than 300s from now/,
    );
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers['x-sluice-event'], 'rollback.started');
    assert.equal(headers['x-team'], 'payments');
    const envelope = JSON.parse(body);
    assert.equal(envelope.id, headers['x-sluice-delivery']);
    assert.deepEqual(
      { ...envelope, id: undefined, event: undefined },
      {
        type: 'rollback.started',
        service: 'checkout',
        at: '2026-11-22T03:00:00.000Z',
        actor: 'sluice-controller',
        seq: envelope.seq,
        text: 'checkout: rolling back (contract, error_rate): error_rate 0.12 is above the threshold 0.03 (baseline 0.02 + 0.01)',
        id: undefined,
        event: undefined,
      },
    );
    assert.deepEqual(envelope.event.log, log);
  });

  test('secretEnv reads the secret from the server environment; a missing one refuses to start', async (t) => {
    const r = await receiver(t);
    process.env.SLUICE_TEST_WEBHOOK_SECRET = 'from-env';
    t.after(() => void delete process.env.SLUICE_TEST_WEBHOOK_SECRET);
    const { n } = notifier(t, { url: r.url, secretEnv: 'SLUICE_TEST_WEBHOOK_SECRET' });
    n.notify(paused());
    await waitFor('one delivery', () => r.received.length === 1);
    const { headers, body } = r.received[0]!;
    assert.equal(
      verifySignature('from-env', headers['x-sluice-signature'] as string, body, Math.floor(Date.now() / 1000)),
      null,
    );
    const config = webhookNotifier.config.parse({ driver: 'webhook', url: r.url, secretEnv: 'SLUICE_TEST_NOT_SET' });
    assert.throws(
      () => webhookNotifier.create(config, { service: 'checkout', serviceDir: '/x', log: () => {} }),
      /service "checkout": secretEnv SLUICE_TEST_NOT_SET is not set/,
    );
  });

  test('retries 5xx with growing delays, same delivery id, freshly signed; gives up after the attempts', async (t) => {
    const r = await receiver(t, (i) => (i < 2 ? 500 : 200));
    process.env.SLUICE_TEST_RETRY_SECRET = 'retry-secret';
    t.after(() => void delete process.env.SLUICE_TEST_RETRY_SECRET);
    const { n, logs } = notifier(t, {
      url: r.url,
      secretEnv: 'SLUICE_TEST_RETRY_SECRET',
      retry: { attempts: 4, initialDelay: '100ms' },
    });
    n.notify(rollback());
    await waitFor('three attempts', () => r.received.length === 3);
    const [a, b, c] = r.received as [Received, Received, Received];
    assert.equal(
      new Set(r.received.map((x) => x.headers['x-sluice-delivery'])).size,
      1,
      'one delivery id across retries',
    );
    for (const x of r.received)
      assert.equal(
        verifySignature('retry-secret', x.headers['x-sluice-signature'] as string, x.body, Math.floor(x.at / 1000)),
        null,
      );
    assert.ok(b.at - a.at >= 45, `first retry after ≥ 50 ms (half of 100 ms, jitter): ${b.at - a.at}`);
    assert.ok(c.at - b.at >= 95, `second retry after ≥ 100 ms (half of 200 ms): ${c.at - b.at}`);
    assert.equal(logs.filter((l) => l.level === 'warn').length, 2);
    assert.match(
      logs[0]!.message,
      /^webhook http:\/\/127\.0\.0\.1:\d+: delivering rollback\.started failed \(attempt 1 of 4\): HTTP 500; retrying in \d+ ms$/,
    );
    assert.ok(!logs.some((l) => l.message.includes('T0K3N')), 'the URL path (often a credential) is not logged');

    const dead = await receiver(t, () => 503);
    const gaveUp = notifier(t, { url: dead.url, retry: { attempts: 2, initialDelay: '20ms' } });
    gaveUp.n.notify(paused());
    await waitFor('an error log', () => gaveUp.logs.some((l) => l.level === 'error'));
    assert.equal(dead.received.length, 2);
    assert.match(gaveUp.logs.at(-1)!.message, /gave up delivering release\.paused after 2 attempt\(s\): HTTP 503/);

    const refused = await receiver(t, () => 400);
    const noRetry = notifier(t, { url: refused.url, retry: { attempts: 5, initialDelay: '20ms' } });
    noRetry.n.notify(paused());
    await waitFor('an error log', () => noRetry.logs.some((l) => l.level === 'error'));
    assert.equal(refused.received.length, 1, 'a 4xx other than 408/429 is not retried');
  });

  test('a receiver that hangs never delays notify(); the queue drops its oldest; close() is bounded', async (t) => {
    const r = await receiver(t, () => 'hang');
    const { n, logs } = notifier(t, { url: r.url, timeout: '10s', queueSize: 1000 });
    const durations: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const event = i % 2 === 0 ? rollback() : stepStarted();
      const began = performance.now();
      n.notify(event);
      durations.push(performance.now() - began);
    }
    await waitFor('the first post to reach the receiver', () => r.received.length === 1);
    durations.sort((x, y) => x - y);
    const q = (p: number) => durations[Math.min(durations.length - 1, Math.floor(p * durations.length))]!;
    t.diagnostic(
      `notify() with a hanging receiver, 2000 calls: p50 ${q(0.5).toFixed(3)} ms, p99 ${q(0.99).toFixed(3)} ms, max ${q(1).toFixed(3)} ms`,
    );
    assert.ok(q(0.99) < 5, `p99 ${q(0.99)} ms`);
    assert.ok(q(1) < 100, `max ${q(1)} ms`);
    assert.match(
      logs.find((l) => l.level === 'warn')!.message,
      /queue full \(1000\): dropped the oldest notification \(step\.started\); 1 dropped so far/,
    );
    const began = Date.now();
    await n.close();
    const closeMs = Date.now() - began;
    t.diagnostic(`close() with a hanging receiver: ${closeMs} ms`);
    assert.ok(closeMs < 4000, `close() returned in ${closeMs} ms`);
    assert.ok(
      logs.some((l) => l.message.includes('closed with 1001 notification(s) undelivered')),
      JSON.stringify(logs.slice(-2)),
    );
    assert.ok(
      logs.some((l) => l.detail?.dropped === 999 && l.message.includes('999 notification(s) were dropped in all')),
    );
    n.notify(paused()); // after close: ignored, no throw
  });

  test('events: picks event types, prefixes and groups; delivers in order', async (t) => {
    const r = await receiver(t);
    const { n } = notifier(t, { url: r.url, events: ['rollback.*', 'release.paused'] });
    for (const e of [stepStarted(), paused(), shifted(), rollback(), ev({ type: 'rollback.trafficReverted', at })])
      n.notify(e);
    await waitFor('three deliveries', () => r.received.length === 3);
    assert.deepEqual(
      r.received.map((x) => JSON.parse(x.body).type),
      ['release.paused', 'rollback.started', 'rollback.trafficReverted'],
    );
    const defaults = webhookNotifier.config.parse({ driver: 'webhook', url: r.url });
    assert.ok(
      defaults.events.includes('step.started') &&
        defaults.events.includes('rollback.started') &&
        !defaults.events.includes('analysis.evaluated'),
      'milestones by default',
    );
    const problem = (config: Record<string, unknown>) => {
      const parsed = webhookNotifier.config.safeParse({ driver: 'webhook', url: r.url, ...config });
      return parsed.success ? 'valid' : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    };
    assert.match(
      problem({ events: ['step.reached'] }),
      /^events\.0: unknown event "step\.reached"; write a group \(all, milestones, releases, steps, rollbacks, .*\), an event type such as release\.started/,
    );
    assert.match(problem({ events: [] }), /^events: list at least one event or group/);
    assert.equal(problem({ secretFile: '/a', secretEnv: 'B' }), 'secretFile: give secretEnv or secretFile, not both');
    // A literal secret is refused, naming the field and the reference to write instead.
    assert.match(
      problem({ secret: 'whsec_live' }),
      /^secret: a literal secret \(the webhook signing key\) would be stored in every revision.*\{ secretEnv: SLUICE_WEBHOOK_SECRET \}/,
    );
    assert.match(
      problem({ headers: { Authorization: 'Bearer abc' } }),
      /^headers\.Authorization: a literal secret \(header Authorization\)/,
    );
    assert.equal(problem({ headers: { Authorization: { secretEnv: 'HOOK_AUTH' }, 'X-Team': 'payments' } }), 'valid');
  });

  test('format: slack posts {text, blocks}, with user text escaped', async (t) => {
    const r = await receiver(t);
    const { n } = notifier(t, { url: r.url, format: 'slack' });
    n.notify(ev({ type: 'release.paused', reason: 'user', detail: 'hold on <!channel> & wait' }));
    await waitFor('one delivery', () => r.received.length === 1);
    const body = JSON.parse(r.received[0]!.body);
    assert.equal(body.text, 'checkout: release paused (user): hold on &lt;!channel&gt; &amp; wait');
    assert.deepEqual(body.blocks, [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: '*checkout*: release paused (user): hold on &lt;!channel&gt; &amp; wait' },
      },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: '`release.paused` · 2026-11-22T03:00:00.000Z · sluice-controller' }],
      },
    ]);
  });
});
