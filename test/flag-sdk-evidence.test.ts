/**
 * A flag's contract judged on what the application reports (`evidence: sdk`), behind a managed
 * HAProxy that knows nothing of flags: the application (examples/flagged-service) evaluates the
 * flag in its own process with `sluice/openfeature` and tracks every request's outcome; 10% of
 * the requests served "on" fail. The contract turns the flag off on that evidence, with the
 * rule and the figures in the rollback log; after it, the application serves "off" and no
 * request fails. The flag's view shows the outcomes reported per variant.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startLoad } from './support/load.ts';
import { rampedFlag } from './support/flags.ts';
import { withoutServer } from './support/servers.ts';
import { freePort, ROOT, SERVICE_SCRIPT, serviceSpec, SluiceServer } from './support/sluice.ts';

const FLAG = rampedFlag('evidence: sdk');

interface FlagEvent {
  type: string;
  actor: string;
  log?: { trigger: string; percent: number | null; figures: Record<string, number | string | null> };
}

describe('a flag judged on the application’s reports', { skip: withoutServer('haproxy', 'haproxy') }, () => {
  test(
    'behind HAProxy, a flag failing 10% of its requests is turned off by its contract on the reported outcomes',
    { timeout: 120_000 },
    async (t) => {
      const server = await SluiceServer.start();
      t.after(() => server.close());
      await server.apply(FLAG);
      const token = await server.api<{ token: string }>('POST', '/api/tokens', {
        role: 'sdk',
        environment: 'production',
        name: 'checkout-app',
      });
      assert.equal(token.status, 200, JSON.stringify(token.body));
      const tokenFile = join(server.dataDir, '..', 'sdk.token');
      await writeFile(tokenFile, token.body.token, { mode: 0o600 });

      const [listenPort, logPort] = [await freePort(), await freePort()];
      const spec = serviceSpec({
        version: '1.0.0',
        listenPort,
        instances: 1,
        env: {
          SLUICE_URL: server.url,
          SLUICE_SDK_TOKEN_FILE: tokenFile,
          FAIL_RATE_WHEN_ON: '0.1',
          REPORT_INTERVAL_MS: '250',
        },
      })
        .replace(SERVICE_SCRIPT, join(ROOT, 'examples/flagged-service/server.ts'))
        .replace('    driver: builtin\n', `    driver: haproxy\n    accessLog: 127.0.0.1:${logPort}\n`)
        .replace('  strategy:\n', `  metrics: { provider: access-log, listen: 127.0.0.1:${logPort} }\n  strategy:\n`);
      await server.apply(spec);
      await server.waitForPhase('Healthy', 30_000);

      const flag = () =>
        server.api<{
          environments: { production: { enabled: boolean } };
          outcomes: { production?: Record<string, { requests: number; errors: number }> };
        }>('GET', '/api/flags/new-checkout');
      const url = `http://127.0.0.1:${listenPort}/`;
      const load = startLoad({ url, rps: 100, durationMs: 60_000, headers: (i) => ({ 'x-user-id': `user-${i}` }) });
      t.after(() => load.stop());
      const started = Date.now();
      while ((await flag()).body.environments.production.enabled) {
        assert.ok(
          Date.now() - started < 40_000,
          `not turned off after 40 s; ${load.samples.length} requests\n${server.log.slice(-3000)}`,
        );
        await new Promise((r) => setTimeout(r, 200));
      }
      const offAt = Date.now();
      const before = load.samples.filter((s) => s.status === 500).length;
      assert.ok(before > 0, 'the "on" variant failed some requests before the flag was turned off');

      const { body } = await server.api<{ events: FlagEvent[] }>('GET', '/api/flags/new-checkout/events');
      const rolled = body.events.find((e) => e.type === 'flag.rolledBack');
      assert.ok(rolled?.log, JSON.stringify(body.events));
      t.diagnostic(
        `turned off ${offAt - started} ms into the load, after ${load.samples.length} requests; rollback log: ${JSON.stringify(rolled.log)}`,
      );
      assert.equal(rolled.actor, 'sluice-controller');
      assert.match(rolled.log.trigger, /^errorRate: on above off × 1 \+ 0\.01$/);
      assert.equal(rolled.log.percent, 50);
      assert.ok(Number(rolled.log.figures.errors) > 0);
      assert.equal(rolled.log.figures.offErrors, 0, 'the off variant reported no failure');
      assert.ok(Number(rolled.log.figures.offRequests) > 0, 'the off variant reported requests');

      const reported = (await flag()).body.outcomes.production;
      assert.ok(reported?.on && reported.off, JSON.stringify(reported));
      assert.ok(reported.on.errors > 0 && reported.off.errors === 0, JSON.stringify(reported));

      // The application has the new set within a second: from then on it serves "off", and nothing fails.
      await new Promise((r) => setTimeout(r, 3500));
      await load.stop();
      const after = load.samples.filter((s) => s.start > offAt + 1500);
      assert.ok(after.length > 50, `${after.length} requests after the flag was off`);
      assert.equal(after.filter((s) => s.status !== 200).length, 0, 'no request failed once the flag was off');
    },
  );
});
