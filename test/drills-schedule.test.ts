/**
 * Scheduled game days (docs/drills.md), end to end: a scheduled GameDay's owners are reminded
 * through the drilled service's webhook notifier (a real local HTTP receiver), the drill runs on
 * its own when due, and `sluice gameday list` shows the next run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { test } from 'node:test';
import type { DrillRecord } from '../src/core/drills/record.ts';
import { CLI, freePort, ROOT, serviceSpec, SluiceServer } from './support/sluice.ts';

interface Delivery {
  type: string;
  text: string;
  event: { runAt?: number; owners?: string[]; drill?: string };
}

test(
  'a scheduled drill reminds its owners through the webhook, runs when due, and gameday list shows its next run',
  { timeout: 120_000 },
  async (t) => {
    const received: Delivery[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        received.push(JSON.parse(body) as Delivery);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    t.after(() => receiver.close());
    const hook = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;

    const server = await SluiceServer.start();
    t.after(() => server.close());
    const listenPort = await freePort();
    await server.apply(
      serviceSpec({ version: '1.0.0', listenPort, instances: 1 }) +
        `  notifications:\n    - { driver: webhook, url: "${hook}", events: [drill.remind, drill.scheduledRun] }\n`,
    );
    await server.waitForPhase('Healthy');

    const spec = `apiVersion: sluice.dev/v1alpha1
kind: GameDay
metadata: { name: weekly-latency }
spec:
  service: checkout
  hypothesis:
    probes:
      - { name: home, http: { url: "http://127.0.0.1:${listenPort}/" }, every: 200ms, tolerance: 50% }
  method:
    - fault: { target: stable, latency: 5ms, percent: 10, for: 1s }
  steadyState: { before: 300ms, after: 300ms }
  schedule: { rrule: "FREQ=SECONDLY;INTERVAL=20", remind: 1h, owners: [ann, bob] }
`;
    const scheduledAt = Date.now();
    const r = await server.api<{ drill: string; nextRunAt: number }>('POST', '/api/gamedays/schedules', {
      spec,
      file: 'drill.yaml',
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const firstRun = r.body.nextRunAt;
    assert.ok(firstRun > scheduledAt && firstRun <= scheduledAt + 20_000, `next run ${firstRun - scheduledAt} ms away`);

    // The reminder for the coming run is due at once (an hour ahead covers it) and reaches the receiver.
    const reminded = Date.now() + 5_000;
    while (!received.some((d) => d.type === 'drill.remind') && Date.now() < reminded)
      await new Promise((res) => setTimeout(res, 50));
    const remind = received.find((d) => d.type === 'drill.remind');
    assert.ok(remind, `deliveries: ${received.map((d) => d.type).join(', ')}`);
    assert.equal(remind.event.runAt, firstRun);
    assert.deepEqual(remind.event.owners, ['ann', 'bob']);
    assert.match(remind.text, /reminder: drill weekly-latency runs on checkout at .* \(owners: ann, bob\)/);

    const list = spawnSync(
      process.execPath,
      [CLI, 'gameday', 'list', '--server', server.url, '--token', server.token],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    assert.equal(list.status, 0, list.stderr);
    const nextRun = new Date(firstRun).toISOString().slice(0, 16).replace('T', ' ');
    assert.match(list.stdout, new RegExp(`weekly-latency\\s+checkout\\s+${nextRun}Z\\s+60m before\\s+ann,bob`));

    // At its time the drill runs on its own, as the person who scheduled it.
    const ran = firstRun + 15_000;
    while (!received.some((d) => d.type === 'drill.scheduledRun') && Date.now() < ran)
      await new Promise((res) => setTimeout(res, 100));
    const run = received.find((d) => d.type === 'drill.scheduledRun');
    assert.ok(run, `deliveries: ${received.map((d) => d.type).join(', ')}`);
    assert.match(run.text, /scheduled drill weekly-latency on checkout \(due .*\) started as run #1/);
    const record = await server.api<DrillRecord>('GET', '/api/gamedays/weekly-latency?run=1');
    assert.equal(record.status, 200);
    assert.equal(record.body.startedBy, 'e2e-test (scheduled)');
    assert.ok(record.body.startedAt >= firstRun, 'not started before its time');
    assert.ok(record.body.startedAt - firstRun < 3000, `started ${record.body.startedAt - firstRun} ms after its time`);
    assert.equal(
      received.filter((d) => d.type === 'drill.remind' && d.event.runAt === firstRun).length,
      1,
      'reminded once',
    );

    // Unscheduled, it stays quiet.
    assert.equal((await server.api('DELETE', '/api/gamedays/schedules/weekly-latency')).status, 204);
    const listed = await server.api<{ schedules: unknown[] }>('GET', '/api/gamedays');
    assert.deepEqual(listed.body.schedules, []);
  },
);

test('scheduling is refused clearly without a schedule or a service', { timeout: 60_000 }, async (t) => {
  const server = await SluiceServer.start();
  t.after(() => server.close());
  const listenPort = await freePort();
  await server.apply(serviceSpec({ version: '1.0.0', listenPort, instances: 1 }));
  await server.waitForPhase('Healthy');
  const gameDay = (service: string, schedule: string) => `apiVersion: sluice.dev/v1alpha1
kind: GameDay
metadata: { name: d }
spec:
  service: ${service}
  hypothesis: { probes: [ { name: home, http: { url: "http://127.0.0.1:${listenPort}/" }, tolerance: 50% } ] }
  method: [ { fault: { target: stable, latency: 5ms, for: 1s } } ]
${schedule}`;
  const post = (spec: string) =>
    server.api<{ error: { message: string } }>('POST', '/api/gamedays/schedules', { spec, file: 'd.yaml' });
  const none = await post(gameDay('checkout', ''));
  assert.equal(none.status, 400);
  assert.match(none.body.error.message, /spec\.schedule: drill d has no schedule/);
  const badRule = await post(gameDay('checkout', '  schedule: { rrule: "BYDAY=TU" }'));
  assert.equal(badRule.status, 400);
  assert.match(badRule.body.error.message, /d\.yaml:\d+:\d+: spec\.schedule: rrule "BYDAY=TU" has no FREQ/);
  const noService = await post(gameDay('nope', '  schedule: { rrule: "FREQ=DAILY;BYHOUR=10" }'));
  assert.equal(noService.status, 404);
  assert.match(noService.body.error.message, /no service named "nope"/);
});
