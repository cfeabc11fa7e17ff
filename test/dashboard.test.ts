/**
 * End to end: the dashboard in a real Chromium against a real `sluice server` running real
 * releases under real traffic. SLUICE_SCREENSHOTS=1 (npm run screenshots) writes the screenshots
 * into docs/screenshots/; otherwise they go to a temp dir and are removed.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, describe } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { startLoad } from './support/load.ts';
import { deployedServer, freePort, ROOT, serviceSpec } from './support/sluice.ts';
import { withoutServer } from './support/servers.ts';

describe('dashboard in a real Chromium', { skip: withoutServer('chromium', 'chromium') }, () => {
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

  /** The few browser globals the in-page functions use (the test is type-checked without the DOM library). */
  interface InPage {
    document: { querySelector(selector: string): { textContent: string | null } | null; body: object };
    MutationObserver: new (callback: () => void) => { observe(node: object, options: object): void };
    __seen?: Record<string, string[]>;
    __loadedOnce?: string;
  }

  /** Records every text the element `testId` shows, from now on, however briefly. */
  async function recordTexts(page: Page, testId: string): Promise<void> {
    await page.evaluate((id) => {
      const w = globalThis as unknown as InPage;
      const seen: string[] = [];
      (w.__seen ??= {})[id] = seen;
      const look = () => {
        const text = w.document.querySelector(`[data-testid="${id}"]`)?.textContent ?? null;
        if (text !== null && seen.at(-1) !== text) seen.push(text);
      };
      look();
      new w.MutationObserver(look).observe(w.document.body, { subtree: true, childList: true, characterData: true });
    }, testId);
  }

  const seenTexts = (page: Page, testId: string) =>
    page.evaluate((id) => (globalThis as unknown as InPage).__seen?.[id] ?? [], testId);

  test('the dashboard follows real releases live and steers them', { timeout: 240_000 }, async (t) => {
    assert.ok(
      existsSync(join(ROOT, 'web/dist/index.html')),
      'the dashboard is not built: run `npm run build:web` (npm ci does it)',
    );
    const { server, listenPort } = await deployedServer(t);
    const load = startLoad({
      url: `http://127.0.0.1:${listenPort}/`,
      rps: 150,
      durationMs: 200_000,
      headers: (i) => ({ 'x-user-id': `u${i % 50}` }),
    });
    t.after(() => load.stop().then(() => undefined));

    const shots =
      process.env.SLUICE_SCREENSHOTS === '1'
        ? join(ROOT, 'docs/screenshots')
        : mkdtempSync(join(tmpdir(), 'sluice-shots-'));
    mkdirSync(shots, { recursive: true });
    if (process.env.SLUICE_SCREENSHOTS !== '1') t.after(() => rmSync(shots, { recursive: true, force: true }));

    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    t.after(() => browser.close());
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    // The server requires tokens: the dashboard is given the first admin token, as a user would paste it.
    // A missing token file is a failure (an auth regression), never a reason to skip the token tests.
    const tokenFile = join(server.dataDir, 'admin.token');
    assert.ok(existsSync(tokenFile), `sluice server made no ${tokenFile}`);
    const token = readFileSync(tokenFile, 'utf8').trim();
    await context.addInitScript((token) => localStorage.setItem('sluice.token', token), token);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    t.after(() => assert.deepEqual(pageErrors, [], 'no uncaught errors in the page'));

    await page.goto(server.url);
    // Set once: still there at the end only if the page was never reloaded.
    await page.evaluate(() => ((globalThis as unknown as InPage).__loadedOnce = 'yes'));
    const loadedOnce = () => page.evaluate(() => (globalThis as unknown as InPage).__loadedOnce);

    await t.test('the overview shows the service, healthy at 100% on its stable version', async () => {
      const card = page.getByTestId('service-checkout');
      await card.getByTestId('phase').filter({ hasText: 'Healthy' }).waitFor();
      assert.equal(await card.getByTestId('weight-1.0.0').textContent(), '100%');
      await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor();
    });

    await t.test('a service applied while the page is open appears without a reload', async () => {
      // Named to sort before "checkout": the overview must still list services in trouble first.
      await server.apply(
        serviceSpec({ name: 'api-gateway', version: '5.1.0', listenPort: await freePort(), instances: 1 }),
      );
      await page
        .getByTestId('service-api-gateway')
        .getByTestId('phase')
        .filter({ hasText: 'Healthy' })
        .waitFor({ timeout: 30_000 });
      assert.equal(await loadedOnce(), 'yes', 'no page reload');
    });

    await t.test("the canary's weight changes on screen as the release advances", async () => {
      await page.getByRole('link', { name: 'checkout', exact: true }).click();
      await page.getByRole('heading', { name: 'checkout', level: 1 }).waitFor();
      await recordTexts(page, 'weight-2.0.0');
      await server.apply(
        serviceSpec({
          version: '2.0.0',
          listenPort,
          steps: ['setWeight: 20', 'pause: { duration: 3s }', 'setWeight: 60', 'pause: { duration: 3s }'],
        }),
      );
      await page.getByTestId('chart-error_rate').locator('canvas').waitFor({ timeout: 30_000 });
      await page.locator('.service-head [data-testid=phase]', { hasText: 'Healthy' }).waitFor({ timeout: 60_000 });
      await page.getByTestId('weight-2.0.0').filter({ hasText: '100%' }).waitFor();
      const seen = await seenTexts(page, 'weight-2.0.0');
      assert.ok(seen.includes('20%') && seen.includes('60%'), `weights shown for 2.0.0: ${seen.join(' → ')}`);
      assert.ok(seen.indexOf('20%') < seen.indexOf('60%'), `in order: ${seen.join(' → ')}`);
      assert.equal(await loadedOnce(), 'yes', 'no page reload');
    });

    await t.test('a failing canary shows as rolled back, with its trigger, without a reload', async () => {
      await server.apply(
        serviceSpec({ version: '3.0.0', listenPort, env: { FAIL_RATE: '0.5' }, steps: ['setWeight: 20', 'pause: {}'] }),
      );
      await page.locator('.service-head [data-testid=phase]', { hasText: 'RolledBack' }).waitFor({ timeout: 60_000 });
      const trigger = page.locator('#release [data-testid=rollback-trigger]');
      await trigger.waitFor();
      assert.equal(await trigger.textContent(), 'error_rate');
      await page.locator('#release [data-testid=revert-ms]').filter({ hasText: /\d/ }).waitFor();
      await page
        .locator('#release .stages', { hasText: 'canary stopped' })
        .filter({ hasNotText: 'pending' })
        .waitFor({ timeout: 30_000 });
      await page.getByTestId('history').locator('.release-RolledBack').first().waitFor();
      assert.equal(await loadedOnce(), 'yes', 'no page reload');
      await page.getByTestId('steps').locator('.step-done', { hasText: '1. setWeight 20' }).waitFor();
      await page.getByTestId('spec-diff').locator('.dl-added', { hasText: 'version: 2.0.0' }).waitFor();

      // The routes behind the charts and the timeline, as any client sees them.
      const series = await server.api<{ rules: { rule: string; outcome: string[]; at: number[]; total: number }[] }>(
        'GET',
        '/api/services/checkout/releases/3/verdicts',
      );
      const errorRate = series.body.rules.find((r) => r.rule === 'error_rate');
      assert.equal(errorRate?.outcome.at(-1), 'Fail');
      assert.equal(errorRate.total, errorRate.at.length);
      const missing = await server.api<{ error: { code: string; message: string } }>(
        'GET',
        '/api/services/checkout/releases/99',
      );
      assert.equal(missing.status, 404);
      assert.match(missing.body.error.message, /no release 99/);
      await page.screenshot({ path: join(shots, 'rolled-back.png'), fullPage: true });

      await page.getByRole('link', { name: 'Sluice' }).click();
      const card = page.getByTestId('service-checkout');
      await card.getByTestId('phase').filter({ hasText: 'RolledBack' }).waitFor();
      assert.match((await card.locator('.trigger').textContent()) ?? '', /rolled back by error_rate/);
      const order = await page
        .getByTestId('services')
        .locator(':scope > li')
        .evaluateAll((cards) => cards.map((c) => c.getAttribute('data-testid')));
      assert.deepEqual(order, ['service-checkout', 'service-api-gateway'], 'trouble first');
      assert.equal(await loadedOnce(), 'yes', 'no page reload');
      await page.screenshot({ path: join(shots, 'overview.png') });
    });

    await t.test('promote, confirmed in the dialog, advances a paused release', async () => {
      await page.getByRole('link', { name: 'checkout', exact: true }).click();
      await server.apply(
        serviceSpec({
          version: '4.0.0',
          listenPort,
          steps: ['setWeight: 10', 'pause: {}', 'setWeight: 50', 'pause: {}'],
        }),
      );
      await page.locator('.service-head [data-testid=phase]', { hasText: 'Paused' }).waitFor({ timeout: 60_000 });
      await page.getByTestId('weight-4.0.0').filter({ hasText: '10%' }).waitFor();
      // Each rule says what its verdict rests on: a confidence bound against the allowance, or what it still needs.
      await page
        .getByTestId('evidence-error_rate')
        .filter({ hasText: /confidence; allowed|more canary requests|no canary requests/ })
        .waitFor({ timeout: 30_000 });
      assert.equal(await page.getByTestId('cmd-pause').isDisabled(), true, 'pause is not valid while paused');
      assert.equal(
        await page.getByTestId('cmd-resume').isDisabled(),
        true,
        'a pause step waits for promote, not resume',
      );
      assert.equal(await page.getByTestId('cmd-retry').isDisabled(), true, 'nothing to retry during a release');

      // By keyboard: Enter opens the confirmation, Escape cancels it and gives the focus back; nothing is sent.
      const promote = page.getByTestId('cmd-promote');
      const dialog = page.getByTestId('confirm-dialog');
      await promote.focus();
      await page.keyboard.press('Enter');
      await dialog.waitFor();
      assert.equal(
        await dialog
          .getByTestId('confirm')
          .evaluate(
            (b) => b === (b as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement,
          ),
        true,
        'the confirm button has the focus',
      );
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      assert.equal(
        await promote.evaluate(
          (b) => b === (b as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement,
        ),
        true,
        'the focus is back on Promote',
      );
      assert.equal((await server.status()).weights['4.0.0'], 10, 'a cancelled promote sends nothing');

      await promote.click();
      await dialog.waitFor();
      await dialog.getByTestId('confirm').click();
      await page.getByTestId('weight-4.0.0').filter({ hasText: '50%' }).waitFor({ timeout: 30_000 });
      const status = await server.status();
      assert.equal(status.weights['4.0.0'], 50);
      assert.equal(status.phase, 'Paused');
      assert.equal(status.step?.index, 3);

      // Who promoted is in the timeline, as the server recorded it.
      const events = await server.api<{ events: { type: string; actor: string }[] }>(
        'GET',
        '/api/services/checkout/events?limit=10000',
      );
      const promoted = events.body.events.filter((e) => e.type === 'release.promoted').at(-1);
      assert.ok(promoted, 'a release.promoted event');
      const line = page.getByTestId('activity').locator('li', { hasText: 'promoted from step 2' });
      await line.waitFor();
      assert.equal(await line.locator('.actor').textContent(), promoted.actor);
      assert.equal(promoted.actor, 'admin', 'the name of the token the dashboard was given');
      assert.equal(await loadedOnce(), 'yes', 'no page reload');

      await page.setViewportSize({ width: 390, height: 844 });
      await page.emulateMedia({ colorScheme: 'dark' });
      const overflow = await page.evaluate(() => {
        const root = (
          globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }
        ).document.documentElement;
        return root.scrollWidth - root.clientWidth;
      });
      assert.equal(overflow, 0, 'nothing wider than a phone screen');
      await page.screenshot({ path: join(shots, 'service-phone-dark.png') });
    });

    await t.test(
      'without a token, the dashboard asks for one (not "offline") and then shows the services',
      async () => {
        const fresh = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        const p = await fresh.newPage();
        await p.goto(server.url);
        await recordTexts(p, 'connection');
        const form = p.getByTestId('token-form');
        await form.waitFor();
        await p.getByTestId('connection').filter({ hasText: 'sign in with a token' }).waitFor();
        await new Promise((r) => setTimeout(r, 1500)); // the stream once retried into "offline" within a second
        assert.deepEqual(
          (await seenTexts(p, 'connection')).filter((text) => text !== 'connecting'),
          ['sign in with a token'],
        );
        await form.getByLabel('Token').fill(token);
        await form.getByRole('button', { name: 'Use this token' }).click();
        await p.getByTestId('service-checkout').waitFor();
        await fresh.close();
      },
    );

    await t.test('a viewer token sees the release but its controls are disabled, saying why', async () => {
      const created = await server.api<{ token: string }>('POST', '/api/tokens', {
        role: 'viewer',
        name: 'e2e-viewer',
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const viewer = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await viewer.addInitScript((token) => localStorage.setItem('sluice.token', token), created.body.token);
      const p = await viewer.newPage();
      await p.goto(`${server.url}/services/checkout`);
      await p.getByTestId('identity').filter({ hasText: 'e2e-viewer' }).waitFor();
      await p.getByTestId('weight-4.0.0').filter({ hasText: '50%' }).waitFor();
      assert.equal(await p.getByTestId('cmd-promote').isDisabled(), true);
      assert.match((await p.getByTestId('cmd-promote').getAttribute('title')) ?? '', /role viewer/);
      await viewer.close();
    });
  });
});
