import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test, describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DriverContext } from '../../types.ts';
import type { RouteTable } from '../types.ts';
import { routerConformance } from '../conformance.ts';
import { isAlive, readPid } from '../managed-process.ts';
import { freePort, keepAliveClient, load, startUpstream, tally } from '../upstreams.ts';
import { nginxRouter } from './index.ts';
import { ManagedNginx } from './managed-nginx.ts';
import { withoutServer } from '../../../../test/support/servers.ts';

describe('nginx router, against a real NGINX', { skip: withoutServer('nginx', 'nginx-light') }, () => {
  async function makeNginx(t: TestContext, extra: Record<string, unknown> = {}) {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-nginx-'));
    const port = await freePort();
    const ctx: DriverContext = { service: 'shop', serviceDir: dir, log: () => {} };
    const config = nginxRouter.config.parse({ driver: 'nginx', listen: `127.0.0.1:${port}`, workers: 1, ...extra });
    const make = () => nginxRouter.create(config, ctx);
    const router = make();
    const nginxDir = join(dir, 'router', 'nginx');
    t.after(async () => {
      await router.shutdown().catch(() => undefined);
      const pid = await readPid(join(nginxDir, 'nginx.pid'));
      if (pid !== null && isAlive(pid)) process.kill(-pid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    });
    return {
      router,
      make,
      dir,
      nginxDir,
      port,
      listenUrl: `http://127.0.0.1:${port}`,
      // No retries: a weight change is no reload (the weight table on disk), so no keep-alive connection is reset.
    };
  }

  routerConformance('nginx', (t) => makeNginx(t), {
    'a down backend: its errors are counted for it':
      'no metrics provider reads nginx per-upstream counters (open-source nginx has none)',
  });

  const oneBackend = (url: string): RouteTable => ({
    backends: [{ key: '1', version: 'v1', weight: 100, endpoints: [url] }],
  });

  test('a config nginx -t rejects is never installed; the running one keeps serving', async (t) => {
    const stable = await startUpstream(t, 'stable');
    const { router, nginxDir, listenUrl } = await makeNginx(t);
    await router.apply(oneBackend(stable.url));
    const before = await readFile(join(nginxDir, 'nginx.conf'), 'utf8');
    const nginx = new ManagedNginx(nginxDir, 'nginx');
    await assert.rejects(
      nginx.install('http { upstream x { } }\n'),
      /nginx -t rejected the generated config \(kept the last good one\)/,
    );
    assert.equal(await readFile(join(nginxDir, 'nginx.conf'), 'utf8'), before);
    assert.deepEqual(tally(await load(listenUrl, keepAliveClient(t), 20, 4)), { stable: 20 });
    assert.deepEqual(await router.read(), oneBackend(stable.url));
  });

  test('a listen address in use fails apply with the error log, and nothing keeps running', async (t) => {
    const { router, port, nginxDir } = await makeNginx(t);
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
    const stable = await startUpstream(t, 'stable');
    await assert.rejects(router.apply(oneBackend(stable.url)), (err: Error) => {
      assert.match(err.message, /nginx router for service "shop"/);
      assert.match(err.message, /Address already in use/);
      return true;
    });
    const pid = await readPid(join(nginxDir, 'nginx.pid'));
    assert.ok(pid === null || !isAlive(pid));
  });

  test('nginx keeps serving when its controller is SIGKILLed; a new router re-attaches without a reload', async (t) => {
    const stable = await startUpstream(t, 'stable');
    const { make, dir, nginxDir, port, listenUrl } = await makeNginx(t);
    const controller = spawn(
      process.execPath,
      [
        fileURLToPath(new URL('../fixtures/controller.ts', import.meta.url)),
        dir,
        JSON.stringify({ driver: 'nginx', workers: 1, listen: `127.0.0.1:${port}` }),
        stable.url,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    t.after(() => controller.kill('SIGKILL'));
    await once(controller.stdout, 'data');
    const pid = await readPid(join(nginxDir, 'nginx.pid'));
    controller.kill('SIGKILL');
    await once(controller, 'exit');
    assert.ok(pid !== null && isAlive(pid), 'nginx died with its controller');
    assert.deepEqual(tally(await load(listenUrl, keepAliveClient(t), 20, 4)), { stable: 20 });

    const router = make();
    assert.deepEqual(await router.read(), oneBackend(stable.url));
    const nginx = new ManagedNginx(nginxDir, 'nginx');
    const generation = await nginx.generation();
    await router.apply(oneBackend(stable.url));
    assert.equal(await nginx.generation(), generation, 're-applying the served table does not reload');
    assert.equal(await readPid(join(nginxDir, 'nginx.pid')), pid, 'no second nginx');
    await router.shutdown();
    assert.equal(isAlive(pid!), false);
    assert.equal(await router.read(), null);
  });

  test('a weight change is no reload: the weight table on disk changes, the same workers serve the new split', async (t) => {
    const [canary, stable] = await Promise.all([startUpstream(t, 'canary'), startUpstream(t, 'stable')]);
    const { router, nginxDir, listenUrl } = await makeNginx(t);
    const split = (w: number): RouteTable => ({
      backends: [
        { key: '2', version: 'v2', weight: w, endpoints: [canary.url] },
        { key: '1', version: 'v1', weight: 100 - w, endpoints: [stable.url] },
      ],
    });
    await router.apply(split(0));
    const nginx = new ManagedNginx(nginxDir, 'nginx');
    const generation = await nginx.generation();
    for (const w of [10, 50, 100, 25]) {
      await router.apply(split(w));
      assert.deepEqual(await router.read(), split(w));
    }
    assert.equal(await nginx.generation(), generation, 'no reload for weights');
    const counts = tally(await load(listenUrl, keepAliveClient(t), 400, 8));
    assert.ok((counts.canary ?? 0) > 40 && (counts.canary ?? 0) < 170, `25% of 400: ${JSON.stringify(counts)}`);
    // A new revision's endpoints are a new config: a reload.
    const third = await startUpstream(t, 'third');
    await router.apply({
      backends: [...split(25).backends, { key: '3', version: 'v3', weight: 0, endpoints: [third.url] }],
    });
    assert.equal(await nginx.generation(), generation! + 1);
  });

  test('the config needs listen; stickiness names one header or cookie nginx can read', () => {
    const parse = (input: unknown) => nginxRouter.config.safeParse(input);
    assert.ok(parse({ driver: 'nginx', listen: '127.0.0.1:8080', stickiness: { cookie: 'session_id' } }).success);
    assert.equal(parse({ driver: 'nginx' }).success, false);
    assert.equal(
      parse({ driver: 'nginx', listen: '127.0.0.1:8080', stickiness: { cookie: 'session-id' } }).success,
      false,
    );
    assert.equal(parse({ driver: 'nginx', listen: '127.0.0.1:8080', stickiness: { header: 'x_user' } }).success, false);
    assert.equal(parse({ driver: 'nginx', listen: '127.0.0.1:8080', workers: 0 }).success, false);
  });
});
