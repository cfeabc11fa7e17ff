/**
 * The dashboard's Flags page in a real Chromium against a real server: each flag's environments,
 * rules with their exposure now and over time, the kill switch shown live when a flag is
 * disabled; a flag its contract paused, resumed from the page; and a flag change marked on a
 * service's rule chart during a real release.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { startLoad } from './support/load.ts';
import { withoutServer } from './support/servers.ts';
import { CLI, deployedServer, ROOT, serviceSpec, SluiceServer } from './support/sluice.ts';

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

/** A page signed in with `token` (by default the server's admin token). */
async function signedIn(browser: Browser, server: SluiceServer, token?: string) {
  const context = await browser.newContext();
  await context.addInitScript(
    (token) => localStorage.setItem('sluice.token', token),
    token ?? readFileSync(join(server.dataDir, 'admin.token'), 'utf8').trim(),
  );
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  return { page, errors };
}

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

  test(
    'a flag its contract paused under real traffic shows paused with the reason; an approver resumes it from the page',
    { timeout: 180_000 },
    async (t) => {
      const { server, listenPort } = await deployedServer(t, {
        instances: 1,
        env: { FAIL_RATE: '0.3', FAIL_WHEN_HEADER: 'x-sluice-flag-new-checkout: on' },
      });
      await server.apply(`apiVersion: sluice.dev/v1alpha1
kind: FeatureFlag
metadata: { name: new-checkout }
spec:
  environments:
    production:
      protected: true
      rules: [{ name: ramp, rollout: { percent: 50 }, serve: "on" }]
  rollbackContract:
    service: checkout
    environment: production
    stickiness: { header: x-user-id }
    errorRate: { by: 0.01 }
    onFail: pause
`);
      const browser = await launch();
      t.after(() => browser.close());
      const deployer = await signedIn(browser, server, await server.createToken('deployer', 'dan'));
      const approver = await signedIn(browser, server, await server.createToken('approver', 'ada'));
      for (const { page } of [deployer, approver]) {
        await page.goto(`${server.url}/flags`);
        await page.getByTestId('flag-new-checkout-production').getByText('ramp').waitFor({ timeout: 30_000 });
      }
      const env = approver.page.getByTestId('flag-new-checkout-production');
      const paused = env.getByTestId('paused-new-checkout-production');
      assert.equal(await paused.count(), 0, 'not paused before any traffic');

      // "on" fails 30% of its requests, "off" none: the contract pauses the flag at its 50%.
      let user = 0;
      const started = Date.now();
      while ((await paused.count()) === 0) {
        assert.ok(Date.now() - started < 60_000, `not paused after 60 s\n${server.log.slice(-2000)}`);
        await Promise.all(
          Array.from({ length: 20 }, () =>
            fetch(`http://127.0.0.1:${listenPort}/`, { headers: { 'x-user-id': `user-${user++}` } }).then((r) =>
              r.arrayBuffer(),
            ),
          ),
        );
      }
      t.diagnostic(`paused after ${user} requests`);
      const text = (await paused.textContent()) ?? '';
      assert.match(text, /Paused at 50% \(rule ramp\) by its contract — errorRate: on above off × 1 \+ 0\.01, since /);
      assert.match(
        (await paused.getByTestId('paused-detail').textContent()) ?? '',
        /error_rate canary .* baseline .*confidence/,
      );
      assert.match((await env.textContent()) ?? '', /production onprotectedpaused/);
      assert.match((await env.textContent()) ?? '', /ramp: everyone, 50% → on/, 'still on at its percent');

      // The CLI says so too.
      const list = await sluice(server, 'flag', 'list');
      assert.match(list.stdout, /new-checkout .*production: ramp 50% \(PAUSED\)/);
      const get = await sluice(server, 'flag', 'get', 'new-checkout');
      assert.match(get.stdout, /PAUSED by its contract at 50% \(rule ramp\) since \S+: errorRate: on above off/);

      // Protected: a deployer sees Resume disabled, saying why; the API would refuse it too.
      const denied = deployer.page.getByTestId('resume-new-checkout-production');
      await denied.waitFor({ timeout: 15_000 });
      assert.equal(await denied.isDisabled(), true);
      assert.match(
        (await denied.getAttribute('title')) ?? '',
        /role deployer; resuming in a protected environment needs approver/,
      );

      const resume = env.getByTestId('resume-new-checkout-production');
      assert.equal(await resume.isDisabled(), false);
      await resume.click();
      const dialog = approver.page.getByTestId('confirm-dialog');
      await dialog.getByRole('textbox').fill('fixed the null address');
      await dialog.getByTestId('confirm').click();
      await paused.waitFor({ state: 'detached', timeout: 15_000 });
      assert.equal(await env.getByText('paused').count(), 0);
      assert.match((await env.textContent()) ?? '', /ramp: everyone, 50% → on/);
      // The deployer's page follows live.
      await denied.waitFor({ state: 'detached', timeout: 15_000 });

      const events = await server.api<{ events: { type: string; actor: string; reason?: string | null }[] }>(
        'GET',
        '/api/flags/new-checkout/events',
      );
      const resumed = events.body.events.find((e) => e.type === 'flag.resumed');
      assert.deepEqual([resumed?.actor, resumed?.reason], ['ada', 'fixed the null address']);
      const view = await server.api<{ environments: { production: { paused: unknown } } }>(
        'GET',
        '/api/flags/new-checkout',
      );
      assert.equal(view.body.environments.production.paused, null);
      assert.deepEqual([...deployer.errors, ...approver.errors], []);
    },
  );

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
