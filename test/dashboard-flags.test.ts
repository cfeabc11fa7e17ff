/**
 * The dashboard's Flags page in a real Chromium against a real server: each flag's environments,
 * rules with their exposure now, and the kill switch shown live when a flag is disabled.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { withoutServer } from './support/servers.ts';
import { ROOT, SluiceServer } from './support/sluice.ts';

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

describe('the Flags page in a real Chromium', { skip: withoutServer('chromium', 'chromium') }, () => {
  test('shows rules and exposure, and the kill switch live', { timeout: 120_000 }, async (t) => {
    assert.ok(
      existsSync(join(ROOT, 'web/dist/index.html')),
      'the dashboard is not built: run `npm run build:web` (npm ci does it)',
    );
    const server = await SluiceServer.start();
    t.after(() => server.close());
    await server.apply(FLAG);
    const browser = await chromium.launch({
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
    t.after(() => browser.close());
    const context = await browser.newContext();
    await context.addInitScript(
      (token) => localStorage.setItem('sluice.token', token),
      readFileSync(join(server.dataDir, 'admin.token'), 'utf8').trim(),
    );
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
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
});
