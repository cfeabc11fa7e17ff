/**
 * The builtin router attached to a running proxy (`router.proxy`): the config's errors as a user
 * sees them, the conformance suite against a proxy the router did not start, and what it never
 * does (start, restart or stop a proxy) and what it says when the proxy is not the one configured.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { SpecError } from '../../../spec/spec-error.ts';
import { parseSpecs } from '../../../spec/parse.ts';
import { builtinMetrics } from '../../metrics/builtin/index.ts';
import { driverSchemas } from '../../registry.ts';
import type { DriverContext } from '../../types.ts';
import { routerConformance } from '../conformance.ts';
import { freePort, keepAliveClient, load, startUpstream, tally } from '../upstreams.ts';
import { adminSecretPath } from './admin-secret.ts';
import { builtinRouter } from './index.ts';
import { isAlive, spawnProxy, stopProxy } from './proxy-process.ts';

const FILE = 'services/shop.yaml';

const specWith = (router: string) => `apiVersion: sluice.dev/v1alpha1
kind: Service
metadata: { name: shop }
spec:
  version: "1.0.0"
  target: { driver: static, urls: ["http://127.0.0.1:9000"] }
  router:
${router}
  strategy: { canary: { steps: [{ setWeight: 50 }] } }
  rollbackContract:
    rules:
      - { metric: error_rate, failIf: { above: baseline, by: 0.05 } }
`;

/** Each issue as `line:col path: message`. */
function issues(router: string): string[] {
  try {
    parseSpecs(specWith(router), FILE, driverSchemas());
  } catch (err) {
    assert.ok(err instanceof SpecError, `expected a SpecError, got ${String(err)}`);
    return err.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
  }
  return [];
}

describe('router.proxy config', () => {
  test('a reference to a running proxy is accepted as written', () => {
    assert.deepEqual(
      issues(`    driver: builtin
    listen: 10.0.0.5:8080
    proxy: { admin: "http://10.0.0.5:7101", secret: { secretEnv: SLUICE_PROXY_SECRET } }`),
      [],
    );
    const [spec] = parseSpecs(
      specWith(`    driver: builtin
    listen: 10.0.0.5:8080
    proxy: { admin: "http://10.0.0.5:7101", secret: { secretFile: /etc/sluice/proxy.secret } }`),
      FILE,
      driverSchemas(),
    );
    assert.deepEqual((spec!.spec.router as { proxy?: unknown }).proxy, {
      admin: 'http://10.0.0.5:7101',
      secret: { secretFile: '/etc/sluice/proxy.secret' },
    });
  });

  test('a literal secret is refused, naming the field and the reference to write', () => {
    const found = issues(`    driver: builtin
    listen: 10.0.0.5:8080
    proxy: { admin: "http://10.0.0.5:7101", secret: "hunter2-hunter2-hunter2" }`);
    assert.equal(found.length, 1, found.join('\n'));
    assert.match(
      found[0]!,
      /^10:\d+ spec\.router\.proxy\.secret: a literal secret \(the proxy's admin secret\) would be stored in every revision.*\{ secretEnv: SLUICE_PROXY_SECRET \}.*\{ secretFile: \/etc\/sluice\/sluice_proxy_secret \}/,
    );
    assert.doesNotMatch(found[0]!, /hunter2/, 'the value itself is not repeated');
  });

  test('a secret that is neither a string nor a reference says what is valid', () => {
    for (const secret of ['{ env: SLUICE_PROXY_SECRET }', '42', '{ secretFile: etc/proxy.secret }']) {
      const found = issues(`    driver: builtin
    listen: 10.0.0.5:8080
    proxy: { admin: "http://10.0.0.5:7101", secret: ${secret} }`);
      assert.equal(found.length, 1, `${secret}: ${found.join('\n')}`);
      assert.match(found[0]!, /spec\.router\.proxy\.secret(\.\w+)?: /, secret);
      assert.match(found[0]!, /secretEnv|secretFile|absolute path/, `${secret}: ${found[0]}`);
    }
  });

  test('the admin API must be an http URL of an address only', () => {
    for (const [admin, why] of [
      [
        'https://10.0.0.5:7101',
        /"https:\/\/10\.0\.0\.5:7101" is not an http URL: .*\(its --admin-listen\), e\.g\. http:\/\/10\.0\.0\.5:7101/,
      ],
      ['10.0.0.5:7101', /http URL/],
      ['unix:///run/proxy.sock', /http URL/],
      [
        'http://10.0.0.5:7101/admin',
        /"http:\/\/10\.0\.0\.5:7101\/admin" has a path or query; .*e\.g\. http:\/\/10\.0\.0\.5:7101/,
      ],
    ] as const) {
      const found = issues(`    driver: builtin
    listen: 10.0.0.5:8080
    proxy: { admin: "${admin}", secret: { secretEnv: S } }`);
      assert.equal(found.length, 1, `${admin}: ${found.join('\n')}`);
      assert.match(found[0]!, /spec\.router\.proxy\.admin: /, admin);
      assert.match(found[0]!, why, admin);
    }
  });

  test("the started proxy's own settings are refused with an attached one; listen and secret are required", () => {
    const found = issues(`    driver: builtin
    listen: 10.0.0.5:8080
    workers: 2
    upstreamTimeout: 5s
    proxy: { admin: "http://10.0.0.5:7101", secret: { secretEnv: S } }`);
    assert.deepEqual(
      found.map((f) => f.replace(/^\d+:\d+ /, '')),
      [
        "spec.router.workers: workers is set on the proxy the router starts; with proxy (a running proxy) it is that proxy's own --workers: remove workers here",
        "spec.router.upstreamTimeout: upstreamTimeout is set on the proxy the router starts; with proxy (a running proxy) it is that proxy's own --upstream-timeout: remove upstreamTimeout here",
      ],
    );
    assert.equal(
      issues(`    driver: builtin
    proxy: { admin: "http://10.0.0.5:7101", secret: { secretEnv: S } }`).length,
      1,
      'listen is required',
    );
    assert.match(
      issues(`    driver: builtin
    listen: 10.0.0.5:8080
    proxy: { admin: "http://10.0.0.5:7101" }`).join('\n'),
      /spec\.router\.proxy\.secret: /,
    );
  });
});

/** A proxy started on its own (as `sluice proxy` does), in a dir no router uses. */
async function runningProxy(t: TestContext, listen?: string) {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-attached-proxy-'));
  const port = await freePort();
  const info = await spawnProxy(dir, listen ?? `127.0.0.1:${port}`);
  t.after(async () => {
    await stopProxy(dir, info.pid);
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, info, secretFile: adminSecretPath(dir), listenUrl: `http://${info.listen}` };
}

async function attachedRouter(t: TestContext, o: { admin: string; secretFile: string; listen: string }) {
  const serviceDir = await mkdtemp(join(tmpdir(), 'sluice-attached-router-'));
  const lines: string[] = [];
  const ctx: DriverContext = { service: 'shop', serviceDir, log: (_, message) => lines.push(message) };
  const router = builtinRouter.create(
    builtinRouter.config.parse({
      driver: 'builtin',
      listen: o.listen,
      proxy: { admin: o.admin, secret: { secretFile: o.secretFile } },
    }),
    ctx,
  );
  t.after(async () => {
    await router.shutdown();
    await rm(serviceDir, { recursive: true, force: true });
  });
  return { router, ctx, serviceDir, lines };
}

routerConformance('builtin attached to a running proxy (router.proxy)', async (t) => {
  const proxy = await runningProxy(t);
  const { router, ctx } = await attachedRouter(t, {
    admin: proxy.info.adminUrl,
    secretFile: proxy.secretFile,
    listen: proxy.info.listen,
  });
  return { router, listenUrl: proxy.listenUrl, metrics: builtinMetrics.create({ provider: 'builtin' }, ctx) };
});

describe('attached to a running proxy', () => {
  test('drives it without starting, restarting or stopping a proxy; shutdown leaves it serving', async (t) => {
    const upstream = await startUpstream(t, 'stable');
    const proxy = await runningProxy(t);
    const { router, serviceDir } = await attachedRouter(t, {
      admin: `${proxy.info.adminUrl}/`,
      secretFile: proxy.secretFile,
      listen: proxy.info.listen,
    });
    await router.apply({
      backends: [{ key: '1', version: 'v1', weight: 100, endpoints: [upstream.url] }],
      epoch: 4,
    });
    assert.equal((await router.read())?.epoch, 4);
    assert.deepEqual(router.lastApply?.()?.unreachable, {});
    assert.deepEqual(Object.keys(router.lastApply!()!.applied), [proxy.info.adminUrl], 'the host is the admin URL');
    assert.ok(!existsSync(join(serviceDir, 'router', 'proxy.json')), 'no proxy of its own');
    assert.ok(!existsSync(join(serviceDir, 'router', 'admin.secret')), 'no secret of its own');
    await router.shutdown();
    assert.ok(isAlive(proxy.info.pid), 'shutdown leaves the attached proxy running');
    assert.deepEqual(tally(await load(proxy.listenUrl, keepAliveClient(t), 10, 2)), { stable: 10 });
    // A stale epoch is refused by the proxy, and said.
    await assert.rejects(
      router.apply({ backends: [{ key: '1', version: 'v1', weight: 100, endpoints: [upstream.url] }], epoch: 3 }),
      /the proxy refused the route table: stale epoch/,
    );
    assert.match(Object.values(router.lastApply!()!.unreachable).join(), /refused: stale epoch/);
  });

  test('a proxy serving another address than router.listen, or a wrong secret, is refused naming both', async (t) => {
    const upstream = await startUpstream(t, 'stable');
    const proxy = await runningProxy(t);
    const other = await freePort();
    const table = { backends: [{ key: '1', version: 'v1', weight: 100, endpoints: [upstream.url] }] };
    const wrongListen = await attachedRouter(t, {
      admin: proxy.info.adminUrl,
      secretFile: proxy.secretFile,
      listen: `127.0.0.1:${other}`,
    });
    await assert.rejects(
      wrongListen.router.apply(table),
      new RegExp(
        `router\\.listen is 127\\.0\\.0\\.1:${other}, but the proxy serves ${proxy.info.listen.replace(/\./g, '\\.')}; set router\\.listen to the address the proxy serves \\(its --listen\\)`,
      ),
    );
    const otherProxy = await runningProxy(t);
    const wrongSecret = await attachedRouter(t, {
      admin: proxy.info.adminUrl,
      secretFile: otherProxy.secretFile,
      listen: proxy.info.listen,
    });
    await assert.rejects(
      wrongSecret.router.apply(table),
      new RegExp(
        `the proxy refused the admin secret \\(secretFile ${otherProxy.secretFile}\\): it is not the secret the proxy was started with`,
      ),
    );
    assert.equal(await proxyTable(proxy), null, 'neither set a table');
  });

  test('an unreachable proxy rejects the apply, names the proxy, and is never started by the router', async (t) => {
    const port = await freePort();
    const proxy = await runningProxy(t);
    const { router, serviceDir } = await attachedRouter(t, {
      admin: `http://127.0.0.1:${port}`,
      secretFile: proxy.secretFile,
      listen: '127.0.0.1:8080',
    });
    await assert.rejects(
      router.apply({ backends: [{ key: '1', version: 'v1', weight: 100, endpoints: ['http://127.0.0.1:1'] }] }),
      new RegExp(
        `builtin router for service "shop" \\(proxy http://127\\.0\\.0\\.1:${port}\\): could not apply the route table: GET http://127\\.0\\.0\\.1:${port}/healthz failed: ECONNREFUSED`,
      ),
    );
    assert.match(router.lastApply!()!.unreachable[`http://127.0.0.1:${port}`]!, /ECONNREFUSED/);
    assert.ok(!existsSync(join(serviceDir, 'router', 'proxy.json')), 'no proxy was started');
    // The metrics provider reads the same proxy, and says it does not answer.
    const metrics = builtinMetrics.create({ provider: 'builtin' }, { service: 'shop', serviceDir, log: () => {} });
    const measured = await metrics.collect(['1'], 1000);
    assert.equal(measured['1']?.kind, 'error');
  });

  test('a secret variable the server does not have is said by name', async (t) => {
    const proxy = await runningProxy(t);
    const serviceDir = await mkdtemp(join(tmpdir(), 'sluice-attached-router-'));
    t.after(() => rm(serviceDir, { recursive: true, force: true }));
    const router = builtinRouter.create(
      builtinRouter.config.parse({
        driver: 'builtin',
        listen: proxy.info.listen,
        proxy: { admin: proxy.info.adminUrl, secret: { secretEnv: 'SLUICE_TEST_NO_SUCH_SECRET' } },
      }),
      { service: 'shop', serviceDir, log: () => {} },
    );
    await assert.rejects(
      router.apply({ backends: [{ key: '1', version: 'v1', weight: 100, endpoints: ['http://127.0.0.1:1'] }] }),
      /secretEnv SLUICE_TEST_NO_SUCH_SECRET is not set in the Sluice server's environment/,
    );
  });
});

async function proxyTable(proxy: { info: { adminUrl: string }; dir: string }): Promise<unknown> {
  const { readAdminSecret } = await import('./admin-secret.ts');
  const res = await fetch(`${proxy.info.adminUrl}/routes`, {
    headers: { authorization: `Bearer ${await readAdminSecret(proxy.dir)}` },
  });
  return res.status === 404 ? null : res.json();
}
