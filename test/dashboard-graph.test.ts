/**
 * End to end: the dashboard's Graph page in a real Chromium against a real server: services as
 * nodes by level, a dependency outside its range in red, and a running train with its progress
 * and timeline (docs/trains.md).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { withoutServer } from './support/servers.ts';
import { freePort, ROOT, serviceSpec, SluiceServer } from './support/sluice.ts';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

test(
  'the Graph page shows the graph, a violation in red and the running train',
  { skip: withoutServer('chromium', 'chromium'), timeout: 120_000 },
  async (t) => {
    assert.ok(
      existsSync(join(ROOT, 'web/dist/index.html')),
      'the dashboard is not built: run `npm run build:web` (npm ci does it)',
    );
    const server = await SluiceServer.start();
    t.after(() => server.close());
    const [payPort, checkoutPort] = [await freePort(), await freePort()];
    const checkout = (range: string) =>
      `${serviceSpec({ name: 'checkout', version: '1.0.0', listenPort: checkoutPort, instances: 1 })}  dependsOn:\n    - { service: payments, version: "${range}" }\n`;
    await server.apply(serviceSpec({ name: 'payments', version: '1.0.0', listenPort: payPort, instances: 1 }));
    await server.waitForPhase('Healthy', 30_000, 'payments');
    await server.apply(checkout('>=1.0.0'));
    await server.waitForPhase('Healthy');
    // payments 2.0.0 stays at its first step (no traffic, a pause for a person); checkout now asks for it.
    await server.apply(
      serviceSpec({
        name: 'payments',
        version: '2.0.0',
        listenPort: payPort,
        instances: 1,
        steps: ['setWeight: 20', 'pause: {}'],
      }),
    );
    await server.apply(checkout('>=2.0.0'));
    await server.apply(`apiVersion: sluice.dev/v1alpha1
kind: ReleaseTrain
metadata: { name: spring }
spec:
  services:
    - { name: payments, version: "2.0.0" }
    - { name: checkout, version: "1.0.0" }
`);

    await server.apply(`apiVersion: sluice.dev/v1alpha1
kind: ReleaseTrain
metadata: { name: weekly }
spec:
  services:
    - { name: checkout, version: "1.0.0" }
  schedule: { rrule: "FREQ=WEEKLY;BYDAY=TU", start: "2026-12-01T10:00", timeZone: Europe/Berlin }
`);

    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    t.after(() => browser.close());
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const token = readFileSync(join(server.dataDir, 'admin.token'), 'utf8').trim();
    await context.addInitScript((tk) => localStorage.setItem('sluice.token', tk), token);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(server.url);
    await page.getByRole('link', { name: 'Graph' }).click();
    await page.getByTestId('graph').waitFor();
    // The train starts payments on its next tick; the page follows it live.
    await page.getByTestId('node-payments').filter({ hasText: '· releasing' }).waitFor({ timeout: 15_000 });

    assert.match((await page.getByTestId('node-payments').textContent())!, /payments1\.0\.0 → 2\.0\.0 · releasing/);
    assert.match((await page.getByTestId('node-checkout').textContent())!, /checkout1\.0\.0 · done/);
    assert.equal(
      await page.getByTestId('node-checkout').getAttribute('class'),
      'node node-violation node-train node-done',
    );
    const edge = page.getByTestId('edge-checkout-payments');
    assert.equal(await edge.getAttribute('class'), 'edge edge-unmet');
    assert.equal(await edge.textContent(), '>=2.0.0');
    assert.equal(
      await page.getByTestId('violations').textContent(),
      'checkout 1.0.0 depends on payments >=2.0.0, and payments runs 1.0.0',
    );
    const train = page.getByTestId('train-spring');
    await train.getByText('Running', { exact: true }).waitFor();
    assert.match(
      (await page.getByTestId('train-service-payments').textContent())!,
      /releasing.*payments 1\.0\.0 → 2\.0\.0/,
    );
    assert.match(
      (await page.getByTestId('train-timeline-spring').textContent())!,
      /train spring run 1 started: payments 2\.0\.0, checkout 1\.0\.0/,
    );
    const upcoming = (await page.getByTestId('upcoming-trains').textContent())!;
    assert.match(upcoming, /weekly FREQ=WEEKLY;BYDAY=TU \(Europe\/Berlin\):/);
    assert.equal(upcoming.split('·').length, 5, 'the next five runs');
    // npm run screenshots (SLUICE_SCREENSHOTS=1) keeps the picture for docs/trains.md.
    if (process.env.SLUICE_SCREENSHOTS === '1')
      await page.screenshot({ path: join(ROOT, 'docs/screenshots/graph.png'), fullPage: true });

    // Live: aborting the train from the API shows up without a reload.
    assert.equal((await server.api('POST', '/api/trains/spring/abort', {})).status, 200);
    await train.getByText('Aborted', { exact: true }).waitFor({ timeout: 15_000 });
    assert.deepEqual(pageErrors, []);
  },
);
