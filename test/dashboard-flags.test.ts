/**
 * The dashboard's Flags page in a real Chromium against a real server: each flag's environments,
 * rules with their exposure now and over time, the kill switch shown live when a flag is
 * disabled; and a flag change marked on a service's rule chart during a real release.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { startLoad } from './support/load.ts';
import { withoutServer } from './support/servers.ts';
import { deployedServer, ROOT, serviceSpec, SluiceServer } from './support/sluice.ts';

const FLAG = `apiVersion: sluice.dev/v1alpha1
kind: FeatureFlag
metadata: { name: new-checkout }
spec:
  owner: team-web
  environments:
    production:
      rules:
        - name: staff
          when: [{ attribute: email, operator: ENDS_WITH, values: ["@example.com"] }]
          serve: "on"
        - { name: ramp, rollout: { percent: 25 }, serve: "on" }
`;

const launch = () =>
  chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });

async function signedIn(browser: Browser, server: SluiceServer) {
  const context = await browser.newContext();
  await context.addInitScript(
    (token) => localStorage.setItem('sluice.token', token),
    readFileSync(join(server.dataDir, 'admin.token'), 'utf8').trim(),
  );
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  return { page, errors };
}

describe('the Flags page in a real Chromium', { skip: withoutServer('chromium', 'chromium') }, () => {
  test('shows rules and exposure, and the kill switch live', { timeout: 120_000 }, async (t) => {
    assert.ok(
      existsSync(join(ROOT, 'web/dist/index.html')),
      'the dashboard is not built: run `npm run build:web` (npm ci does it)',
    );
    const server = await SluiceServer.start();
    t.after(() => server.close());
    await server.apply(FLAG);
    const browser = await launch();
    t.after(() => browser.close());
    const { page, errors } = await signedIn(browser, server);
    await page.goto(`${server.url}/flags`);
    const env = page.getByTestId('flag-new-checkout-production');
    await env.getByText('ramp').waitFor({ timeout: 30_000 });
    const text = await env.textContent();
    assert.match(text ?? '', /production on/);
    assert.match(text ?? '', /staff: email ENDS_WITH @example\.com → on/);
    assert.match(text ?? '', /ramp: everyone, 25% → on/);
    assert.equal(
      (await server.api('POST', '/api/flags/new-checkout/disable', { environment: 'production' })).status,
      200,
    );
    await env.getByText('off (kill switch)').waitFor({ timeout: 15_000 });
    assert.deepEqual(errors, []);
  });

  test('draws exposure over time as steps, with each change and its reason', { timeout: 120_000 }, async (t) => {
    const server = await SluiceServer.start();
    t.after(() => server.close());
    await server.apply(FLAG);
    const browser = await launch();
    t.after(() => browser.close());
    const { page, errors } = await signedIn(browser, server);
    await page.goto(`${server.url}/flags`);
    const chart = page.getByTestId('exposure-new-checkout');
    await chart.locator('canvas').waitFor({ timeout: 30_000 });
    const steps = chart.getByTestId('steps-production-ramp');
    assert.equal((await steps.textContent())?.trim(), '· production ramp: 25%');
    const set = await server.api('POST', '/api/flags/new-checkout/percent', {
      environment: 'production',
      rule: 'ramp',
      percent: 50,
      reason: 'error rate flat at 25%',
    });
    assert.equal(set.status, 200);
    await steps.filter({ hasText: '25% → 50%' }).waitFor({ timeout: 15_000 });
    await server.api('POST', '/api/flags/new-checkout/disable', { environment: 'production', reason: 'pager' });
    await steps.filter({ hasText: '25% → 50% → 0%' }).waitFor({ timeout: 15_000 });
    // The staff rule serves everyone it matches until the kill switch: 100% then 0%.
    assert.equal(
      (await chart.getByTestId('steps-production-staff').textContent())?.trim(),
      '· production staff: 100% → 0%',
    );
    const changes = (await chart.getByTestId('changes-new-checkout').textContent()) ?? '';
    assert.match(changes, /rule ramp at 50% \(e2e-test: error rate flat at 25%\)/);
    assert.match(changes, /disabled in production by e2e-test: pager/);
    assert.deepEqual(errors, []);
  });

  test("marks a flag change on a service's rule chart during a release", { timeout: 180_000 }, async (t) => {
    const { server, listenPort } = await deployedServer(t);
    await server.apply(FLAG);
    const load = startLoad({ url: `http://127.0.0.1:${listenPort}/`, rps: 100, durationMs: 120_000 });
    t.after(() => load.stop().then(() => undefined));
    await server.apply(
      serviceSpec({ version: '2.0.0', listenPort, steps: ['setWeight: 20', 'pause: { duration: 90s }'] }),
    );
    const browser = await launch();
    t.after(() => browser.close());
    const { page, errors } = await signedIn(browser, server);
    await page.goto(`${server.url}/services/checkout`);
    const chart = page.getByTestId('chart-error_rate');
    await chart.locator('canvas').waitFor({ timeout: 60_000 });
    assert.equal(await chart.getByTestId('marks-error_rate').count(), 0, 'no flag changed during this release yet');
    await server.api('POST', '/api/flags/new-checkout/percent', {
      environment: 'production',
      rule: 'ramp',
      percent: 60,
    });
    const marks = chart.getByTestId('marks-error_rate');
    await marks.waitFor({ timeout: 30_000 });
    assert.match((await marks.textContent()) ?? '', /1 flag change marked: new-checkout 60%/);
    assert.match((await marks.getAttribute('title')) ?? '', /rule ramp at 60% \(e2e-test\)/);
    assert.deepEqual(errors, []);
  });

  test("shows a guarded flag's variants and the verdict that turned it off", { timeout: 180_000 }, async (t) => {
    const { server, listenPort } = await deployedServer(t, {
      instances: 1,
      env: { FAIL_RATE: '0.1', FAIL_WHEN_HEADER: 'x-sluice-flag-new-checkout: on' },
    });
    await server.apply(`apiVersion: sluice.dev/v1alpha1
kind: FeatureFlag
metadata: { name: new-checkout }
spec:
  environments:
    production:
      rules: [{ name: ramp, rollout: { percent: 50 }, serve: "on" }]
  rollbackContract:
    service: checkout
    environment: production
    stickiness: { header: x-user-id }
    errorRate: { by: 0.01 }
`);
    const browser = await launch();
    t.after(() => browser.close());
    const { page, errors } = await signedIn(browser, server);
    await page.goto(`${server.url}/flags`);
    await page.getByTestId('exposure-new-checkout').waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('variants-new-checkout').count(), 0, 'no samples before any traffic');
    let user = 0;
    const started = Date.now();
    const env = page.getByTestId('flag-new-checkout-production');
    while ((await env.getByText('off (kill switch)').count()) === 0) {
      assert.ok(Date.now() - started < 60_000, `not turned off after 60 s\n${server.log.slice(-2000)}`);
      await Promise.all(
        Array.from({ length: 20 }, () =>
          fetch(`http://127.0.0.1:${listenPort}/`, { headers: { 'x-user-id': `user-${user++}` } }).then((r) =>
            r.arrayBuffer(),
          ),
        ),
      );
    }
    const chart = page.getByTestId('variants-new-checkout');
    await chart.locator('canvas').waitFor({ timeout: 30_000 });
    await chart.getByText('on: Fail').waitFor({ timeout: 15_000 });
    assert.match((await chart.textContent()) ?? '', /Per variant \(production, against off\)/);
    assert.deepEqual(errors, []);
  });
});
