/**
 * The dashboard's approval controls in a real Chromium: a promotion to production waits for an
 * approval; the author's page says why it may not approve (four-eyes); an approver's page shows the
 * gates and its Approve starts the production release.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { callAs, envSpec, type PlanAnswer } from './support/environments.ts';
import { withoutServer } from './support/servers.ts';
import { freePort, ROOT, SluiceServer } from './support/sluice.ts';

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

describe('dashboard approvals in a real Chromium', { skip: withoutServer('chromium', 'chromium') }, () => {
  test(
    'an approver approves a waiting promotion from the service page; the author cannot',
    { timeout: 180_000 },
    async (t) => {
      assert.ok(existsSync(join(ROOT, 'web/dist/index.html')), 'the dashboard is not built: run `npm run build:web`');
      const server = await SluiceServer.start();
      t.after(() => server.close());
      const [stagingPort, productionPort] = [await freePort(), await freePort()];
      const dora = await server.createToken('approver', 'dora');
      const bob = await server.createToken('approver', 'bob');
      await server.apply(envSpec({ version: '1.0.0', stagingPort, productionPort, approvals: 1 }));
      await server.waitFor(
        (s) => s.phase === 'Healthy' && s.stableVersion === '1.0.0',
        'staging on 1.0.0',
        30_000,
        'shop--staging',
      );
      const asked = await callAs<PlanAnswer>(server, dora, 'POST', '/api/services/shop/releases', {
        version: '1.0.0',
        to: 'production',
      });
      assert.equal(asked.status, 202, JSON.stringify(asked.body));

      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
      t.after(() => browser.close());
      const pageAs = async (token: string) => {
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        await context.addInitScript((tk) => localStorage.setItem('sluice.token', tk), token);
        const page = await context.newPage();
        await page.goto(`${server.url}/services/shop--production`);
        await page.getByTestId('environment-gates').waitFor();
        return page;
      };

      const author = await pageAs(dora);
      const approveAsAuthor = author.getByTestId('approve');
      assert.equal(await approveAsAuthor.isDisabled(), true);
      assert.match(
        (await approveAsAuthor.getAttribute('title')) ?? '',
        /dora asked for this release: another approver must \(four-eyes\)/,
      );
      assert.match((await author.getByTestId('environment-gates').textContent()) ?? '', /approvals.*waiting/);

      const approver = await pageAs(bob);
      await approver.getByTestId('approve').click();
      await approver.getByRole('dialog').getByRole('button', { name: 'Approve' }).click();
      const s = await server.waitFor(
        (x) => x.stableVersion === '1.0.0' || x.canaryVersion === '1.0.0',
        'production runs 1.0.0 after the approval',
        30_000,
        'shop--production',
      );
      assert.ok(s.stableVersion === '1.0.0' || s.canaryVersion === '1.0.0');
      const audit = await fetch(`${server.url}/api/audit/export`, {
        headers: { authorization: `Bearer ${server.adminToken}` },
      });
      const events = (await audit.text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; actor: string });
      assert.ok(
        events.some((e) => e.type === 'approval.given' && e.actor === 'bob'),
        'the approval is recorded as bob',
      );
    },
  );
});
