/**
 * End to end: the dependency graph and the checks wherever a version changes, with a real server,
 * real service processes and traffic through the built-in proxy (docs/trains.md).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import type { DependencyGraph } from '../src/core/graph/index.ts';
import { startLoad } from './support/load.ts';
import { CLI, freePort, ROOT, serviceSpec, SluiceServer, type SpecOptions } from './support/sluice.ts';

/** A spec of the example service with `dependsOn` entries (service → range). */
const withDeps = (o: SpecOptions, deps: Record<string, string>) =>
  `${serviceSpec({ instances: 1, ...o })}  dependsOn:\n${Object.entries(deps)
    .map(([s, v]) => `    - { service: ${s}, version: "${v}" }`)
    .join('\n')}\n`;

interface ApplyAnswer {
  results?: {
    service: string;
    action: string;
    heldBy?: { service: string; range: string; running: string | null }[];
  }[];
  error?: { code: string; message: string };
}

test(
  'dependsOn: refused at apply with file:line, held until met, a manual undo that would strand a dependent refused, the automatic rollback never blocked',
  { timeout: 150_000 },
  async (t) => {
    const server = await SluiceServer.start();
    t.after(() => server.close());
    const [payPort, checkoutPort] = [await freePort(), await freePort()];
    const apply = (spec: string) =>
      server.api<ApplyAnswer>('POST', '/api/apply', { spec, file: 'deps.yaml', baseDir: ROOT });
    const fast = ['setWeight: 50', 'pause: { duration: 1s }'];

    await server.apply(serviceSpec({ name: 'payments', version: '2.0.0', listenPort: payPort, instances: 1 }));
    await server.waitForPhase('Healthy', 30_000, 'payments');

    // Bad declarations are refused before anything is applied, each at its file and line.
    const bad = await apply(
      withDeps(
        { name: 'checkout', version: '1.0.0', listenPort: checkoutPort },
        { paymnts: '^2', payments: '>=9.0.0' },
      ),
    );
    assert.equal(bad.status, 400);
    assert.match(
      bad.body.error!.message,
      /deps\.yaml:3\d:\d+: checkout spec\.dependsOn\[0\]: unknown service "paymnts"; known services: payments/,
    );
    assert.match(
      bad.body.error!.message,
      /deps\.yaml:3\d:\d+: checkout spec\.dependsOn\[1\]: no version of payments meets ">=9\.0\.0": its known versions are 2\.0\.0/,
    );
    const invalid = await apply(
      withDeps({ name: 'checkout', version: '1.0.0', listenPort: checkoutPort }, { payments: 'two' }),
    );
    assert.equal(invalid.status, 400);
    assert.match(invalid.body.error!.message, /"two" is not a semver range/);
    const cycle = await apply(
      `${withDeps({ name: 'checkout', version: '1.0.0', listenPort: checkoutPort }, { payments: '^2' })}---\n${withDeps({ name: 'payments', version: '2.0.0', listenPort: payPort }, { checkout: '^1' })}`,
    );
    assert.equal(cycle.status, 400);
    assert.match(
      cycle.body.error!.message,
      /dependency cycle (checkout → payments → checkout|payments → checkout → payments)/,
    );
    assert.equal((await server.api('GET', '/api/services/checkout')).status, 404, 'nothing was applied');

    // Met: checkout deploys.
    await server.apply(
      withDeps(
        { name: 'checkout', version: '1.0.0', listenPort: checkoutPort, steps: fast },
        { payments: '>=2.0.0 <3.0.0' },
      ),
    );
    await server.waitForPhase('Healthy');

    // payments 2.1.0 is mid-canary (paused): a checkout release needing it is held, 202 naming it.
    await server.apply(
      serviceSpec({
        name: 'payments',
        version: '2.1.0',
        listenPort: payPort,
        instances: 1,
        steps: ['setWeight: 20', 'pause: {}'],
      }),
    );
    await server.waitFor((s) => s.phase === 'Paused', 'payments paused at 20%', 30_000, 'payments');
    const held = await apply(
      withDeps({ name: 'checkout', version: '2.0.0', listenPort: checkoutPort, steps: fast }, { payments: '>=2.1.0' }),
    );
    assert.equal(held.status, 202);
    assert.equal(held.body.results![0]!.action, 'waiting');
    assert.deepEqual(held.body.results![0]!.heldBy, [{ service: 'payments', range: '>=2.1.0', running: '2.0.0' }]);
    const waiting = await server.status();
    assert.match(
      waiting.waiting!.reason,
      /waits for its dependencies: payments runs 2\.0\.0, not a version in ">=2\.1\.0" \(2\.1\.0 is being released\)/,
    );
    const g1 = (await server.api<DependencyGraph>('GET', '/api/graph')).body;
    assert.deepEqual(g1.edges, [{ from: 'checkout', to: 'payments', range: '>=2.1.0', met: false }]);
    assert.deepEqual(g1.levels, [['payments'], ['checkout']]);
    assert.equal(g1.violations.length, 1, 'checkout 1.0.0 now declares >=2.1.0 and payments runs 2.0.0');

    // payments completes: the held release starts by itself and completes.
    assert.equal((await server.api('POST', '/api/services/payments/promote', { full: true })).status, 200);
    await server.waitFor(
      (s) => s.stableVersion === '2.1.0' && s.phase === 'Healthy',
      'payments 2.1.0',
      30_000,
      'payments',
    );
    await server.waitFor(
      (s) => (s.appliedWeights['2.0.0'] ?? 0) > 0,
      'checkout 2.0.0 started once payments ran 2.1.0',
      30_000,
    );
    const promoted = await server.api('POST', '/api/services/checkout/promote', { full: true });
    assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
    await server.waitFor(
      (s) => s.stableVersion === '2.0.0' && s.phase === 'Healthy',
      'checkout 2.0.0 released',
      30_000,
    );
    const g2 = (await server.api<DependencyGraph>('GET', '/api/graph')).body;
    assert.deepEqual(g2.violations, []);
    const dot = await fetch(`${server.url}/api/graph?format=dot`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    assert.match(await dot.text(), /"checkout" -> "payments" \[label=">=2\.1\.0"\];/);

    // A manual undo of payments to 2.0.0 would strand checkout: refused before anything changes.
    const releasesBefore = (await server.history('payments')).length;
    const undo = await server.api<{ error: { code: string; message: string } }>(
      'POST',
      '/api/services/payments/undo',
      {},
    );
    assert.equal(undo.status, 409);
    assert.match(
      undo.body.error.message,
      /going back to payments 2\.0\.0 would break what runs on it: checkout 2\.0\.0 depends on payments ">=2\.1\.0", and 2\.0\.0 is not in it\. Nothing was changed; fail forward instead: release payments 2\.1\.0/,
    );
    assert.equal((await server.history('payments')).length, releasesBefore);
    assert.equal((await server.status('payments')).stableVersion, '2.1.0');

    // The automatic rollback of a failing canary is never blocked, even when a dependent's range
    // (changed here without a release) leaves out the stable version it returns to.
    await server.apply(
      serviceSpec({
        name: 'payments',
        version: '2.2.0',
        listenPort: payPort,
        instances: 1,
        env: { FAIL_RATE: '0.5' },
        steps: ['setWeight: 30', 'pause: {}'],
      }),
    );
    const configured = await apply(
      withDeps({ name: 'checkout', version: '2.0.0', listenPort: checkoutPort, steps: fast }, { payments: '>=2.2.0' }),
    );
    assert.equal(configured.body.results![0]!.action, 'configured');
    const load = startLoad({ url: `http://127.0.0.1:${payPort}/`, rps: 150, durationMs: 40_000 });
    t.after(() => load.stop());
    const rolledBack = await server.waitFor(
      (s) => s.phase === 'RolledBack' && s.lastRollback?.trafficRevertedAt != null,
      'payments 2.2.0 rolled back',
      40_000,
      'payments',
    );
    await load.stop();
    assert.equal(rolledBack.lastRollback!.kind, 'contract');
    assert.equal(rolledBack.weights['2.1.0'], 100);
    assert.equal(rolledBack.weights['2.2.0'] ?? 0, 0);
    const g3 = (await server.api<DependencyGraph>('GET', '/api/graph')).body;
    assert.deepEqual(
      g3.violations.map((v) => v.message),
      ['checkout 2.0.0 depends on payments >=2.2.0, and payments runs 2.1.0'],
    );

    // sluice graph: the table, the order and the violation (exit 1); DOT with the unmet edge in red.
    const cli = (...args: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(
          process.execPath,
          [CLI, ...args],
          { cwd: ROOT, env: { ...process.env, SLUICE_SERVER: server.url, SLUICE_TOKEN: server.token } },
          (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout }),
        );
      });
    const text = await cli('graph');
    assert.equal(text.code, 1);
    assert.match(text.stdout, /checkout\s+2\.0\.0\s+payments >=2\.2\.0 \(UNMET\)/);
    assert.match(text.stdout, /release order: payments → checkout/);
    assert.match(
      text.stdout,
      /violations:\n  checkout 2\.0\.0 depends on payments >=2\.2\.0, and payments runs 2\.1\.0/,
    );
    assert.match(
      (await cli('graph', '-o', 'dot')).stdout,
      /"checkout" -> "payments" \[label=">=2\.2\.0", color=red, fontcolor=red\];/,
    );
  },
);
