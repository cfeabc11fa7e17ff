import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import type { TargetRevision } from '../types.ts';
import { targetConformance, type TargetFixture } from '../conformance.ts';
import { bodyOf } from '../fixtures/http-get.ts';
import { staticTarget, type StaticTargetConfig } from './index.ts';

let services = 0;
const ctxFor = (service: string) => ({ service, serviceDir: '/nonexistent', log: () => {} });

/** A real HTTP server on an ephemeral port: `/` answers `version`, `/healthz` `health`. */
async function serve(version: string, health = 200): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') res.writeHead(health).end();
    else res.writeHead(200, { 'content-type': 'text/plain' }).end(version);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function revision(key: string, version: string, config: Record<string, unknown>): TargetRevision<StaticTargetConfig> {
  return { key, version, config: staticTarget.config.parse({ driver: 'static', ...config }), baseDir: '/' };
}

targetConformance('static', async (): Promise<TargetFixture<StaticTargetConfig>> => {
  const service = `static-test-${++services}`;
  const servers: Array<{ close: () => Promise<void> }> = [];
  const readiness = { interval: '50ms', timeout: '1s' };
  return {
    service,
    create: () => staticTarget.create(ctxFor(service)),
    async revision(key, version) {
      const urls = await Promise.all([serve(version), serve(version)]).then(
        (s) => (servers.push(...s), s.map((x) => x.url)),
      );
      return revision(key, version, { urls, readiness });
    },
    async neverReady(key) {
      const server = await serve('never', 503);
      servers.push(server);
      return { rev: revision(key, 'never', { urls: [server.url], readiness }), timeoutMs: 1000 };
    },
    skip: {
      stopEnds: 'static targets do not run the versions they list; whoever deployed them stops them',
      instanceFaults: 'static targets hold no process of the versions they list: a drill refuses instance faults',
    },
    cleanup: async () => void (await Promise.all(servers.map((s) => s.close()))),
  };
});

describe('static target', { timeout: 15_000 }, () => {
  const target = (t: TestContext) => {
    const created = staticTarget.create(ctxFor(`static-unit-${++services}`));
    t.after(() => created.close());
    return created;
  };

  test('config: http(s) URLs only, at least one, no unknown fields', () => {
    const ok = staticTarget.config.parse({ driver: 'static', urls: ['https://a.example/v1', 'http://10.0.0.5:8080'] });
    assert.deepEqual(ok, { driver: 'static', urls: ['https://a.example/v1', 'http://10.0.0.5:8080'] });
    assert.equal(staticTarget.config.safeParse({ driver: 'static', urls: [] }).success, false);
    const ftp = staticTarget.config.safeParse({ driver: 'static', urls: ['ftp://a.example'] });
    assert.match(JSON.stringify(ftp.error?.issues), /http\(s\) URL/);
    assert.equal(staticTarget.config.safeParse({ driver: 'static', urls: ['http://a'], weight: 1 }).success, false);
    const withReadiness = staticTarget.config.parse({ driver: 'static', urls: ['http://a'], readiness: {} });
    assert.deepEqual(withReadiness.readiness, { path: '/healthz', timeout: 30_000, interval: 200 });
  });

  test('without readiness, start returns the listed URLs without probing them', async (t) => {
    const rev = revision('3', 'v3', { urls: ['http://127.0.0.1:1/a', 'http://127.0.0.1:1/b'] });
    const instances = await target(t).start(rev, AbortSignal.timeout(1000));
    assert.deepEqual(instances, [
      { id: '3-1', url: 'http://127.0.0.1:1/a' },
      { id: '3-2', url: 'http://127.0.0.1:1/b' },
    ]);
  });

  test('a failed readiness names the service, revision, instance and URL', async (t) => {
    const healthy = await serve('v1');
    const sick = await serve('v1', 500);
    t.after(async () => {
      await healthy.close();
      await sick.close();
    });
    const rev = revision('5', 'v1', {
      urls: [healthy.url, sick.url],
      readiness: { interval: '50ms', timeout: '300ms' },
    });
    const tgt = target(t);
    await assert.rejects(tgt.start(rev, AbortSignal.timeout(5000)), (err: Error) => {
      assert.match(err.message, /service "static-unit-\d+" revision 5 \(version v1\), instance 5-2/);
      assert.ok(err.message.includes(`${sick.url}/healthz`), err.message);
      assert.match(err.message, /HTTP 500/);
      return true;
    });
  });

  test('stop leaves the versions running and no signal is ever emitted', async (t) => {
    const server = await serve('v1');
    t.after(() => server.close());
    const tgt = target(t);
    let signals = 0;
    tgt.onSignal(() => signals++);
    const rev = revision('1', 'v1', { urls: [server.url] });
    const instances = await tgt.start(rev, AbortSignal.timeout(1000));
    await tgt.stop(rev, instances);
    assert.equal(await bodyOf(server.url), 'v1');
    assert.equal(signals, 0);
  });
});
