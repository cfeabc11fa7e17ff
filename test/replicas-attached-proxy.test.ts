/**
 * Two `sluice server` replicas on one PostgreSQL, each with a data dir of its own (as on two
 * machines), and one built-in proxy run by `sluice proxy` apart from both (as on a data-plane
 * host). The service's router names that proxy (`router.proxy`): the owner is SIGKILLed mid-canary
 * under 100 requests/s, the other replica takes over through the same proxy, the release completes,
 * no request fails, and neither replica started a proxy of its own. A proxy that stops answering
 * pauses the release (a recorded driver error; no replica starts one) until it is back and resumed.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { RouteWrite } from '../src/proxy/route-log.ts';
import { startLoad } from './support/load.ts';
import { TestPostgres, withoutPostgres } from './support/postgres.ts';
import { CLI, freePort, killLeftovers, ROOT, SERVICE_SCRIPT, SluiceServer } from './support/sluice.ts';

const skip = withoutPostgres();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One version of the service in a process of its own (examples/service/server.ts), on loopback. */
async function startVersion(t: TestContext, version: string): Promise<string> {
  const child = spawn(process.execPath, [SERVICE_SCRIPT], {
    env: { ...process.env, PORT: '0', SLUICE_VERSION: version },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => void child.kill('SIGKILL'));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`version ${version} exited ${code}: ${out}`)));
  });
  child.stdout!.resume();
  return url;
}

/** `sluice proxy` as an operator runs it on the data-plane host: its own dir, its admin API on a fixed port. */
class StandaloneProxy {
  readonly dir: string;
  readonly secretFile: string;
  readonly listen: string;
  readonly admin: string;
  #child: ChildProcess | null = null;
  #log = '';

  private constructor(dir: string, listen: string, admin: string) {
    this.dir = dir;
    this.secretFile = join(dir, 'proxy.secret');
    this.listen = listen;
    this.admin = admin;
  }

  static async start(t: TestContext): Promise<StandaloneProxy> {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-standalone-proxy-'));
    const proxy = new StandaloneProxy(dir, `127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`);
    writeFileSync(proxy.secretFile, `${'s3cret-'.repeat(6)}\n`, { mode: 0o600 });
    t.after(async () => {
      await proxy.kill();
      rmSync(dir, { recursive: true, force: true });
    });
    await proxy.run();
    return proxy;
  }

  get secret(): string {
    return readFileSync(this.secretFile, 'utf8').trim();
  }

  /** The proxy process's pid, from the proxy.json it writes in its state dir. */
  get pid(): number {
    return (JSON.parse(readFileSync(join(this.dir, 'state', 'proxy.json'), 'utf8')) as { pid: number }).pid;
  }

  async run(): Promise<void> {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'proxy',
        '--listen',
        this.listen,
        '--admin-listen',
        this.admin,
        '--admin-secret-file',
        this.secretFile,
        '--dir',
        join(this.dir, 'state'),
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (d) => (this.#log += d));
    child.stderr!.on('data', (d) => (this.#log += d));
    this.#child = child;
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      if (child.exitCode !== null) throw new Error(`sluice proxy exited ${child.exitCode}:\n${this.#log}`);
      const up = await fetch(`http://${this.admin}/healthz`, {
        headers: { authorization: `Bearer ${this.secret}` },
      }).then(
        (r) => r.ok,
        () => false,
      );
      if (up) return;
      await sleep(50);
    }
    throw new Error(`sluice proxy did not answer within 30 s:\n${this.#log}`);
  }

  /** SIGKILL the proxy itself (not only `sluice proxy` in front of it), then the command. */
  async kill(): Promise<void> {
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      /* not started or gone */
    }
    const child = this.#child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** The router's write log: every table the proxy decided, in order. */
  writes(): RouteWrite[] {
    return readFileSync(join(this.dir, 'state', 'routes.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RouteWrite);
  }
}

const spec = (version: string, url: string, proxy: StandaloneProxy, steps: string[]) => `apiVersion: sluice.dev/v1alpha1
kind: Service
metadata: { name: checkout }
spec:
  version: "${version}"
  target: { driver: static, urls: ["${url}"] }
  router:
    driver: builtin
    listen: "${proxy.listen}"
    proxy: { admin: "http://${proxy.admin}", secret: { secretFile: ${proxy.secretFile} } }
  strategy:
    canary:
      steps:
${steps.map((s) => `        - ${s}`).join('\n')}
  rollbackContract:
    interval: 250ms
    window: 5s
    minSamples: 20
    rules:
      - { metric: error_rate, failIf: { above: baseline, by: 0.05 } }
`;

/** Two replicas on one database, each with its own data dir (nothing shared but the database). */
async function replicas(t: TestContext): Promise<{ a: SluiceServer; b: SluiceServer }> {
  const pg = await TestPostgres.start();
  t.after(() => pg.stop());
  const store = await pg.createDatabase();
  const a = await SluiceServer.start({ args: ['--store', store, '--replica-id', 'a'] });
  const b = await SluiceServer.start({ args: ['--store', store, '--replica-id', 'b'], token: a.token });
  t.after(async () => {
    await Promise.all([a.kill('SIGKILL'), b.kill('SIGKILL')]);
    for (const s of [a, b]) {
      killLeftovers(s.dataDir);
      rmSync(s.dataDir, { recursive: true, force: true });
    }
  });
  assert.notEqual(a.dataDir, b.dataDir);
  return { a, b };
}

/** Built-in proxy processes (src/proxy/main.ts) running with their state in `dir`. */
function proxiesIn(dir: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const at = argv.indexOf('--dir');
    if (argv.some((x) => x.endsWith('src/proxy/main.ts')) && at >= 0 && argv[at + 1]!.startsWith(dir))
      found.push(Number(pid));
  }
  return found;
}

/** Neither replica started a proxy: no proxy process, proxy.json or admin secret under its data dir. */
function assertNoProxyOfItsOwn(server: SluiceServer, name: string): void {
  const router = join(server.dataDir, 'services', 'checkout', 'router');
  assert.deepEqual(proxiesIn(server.dataDir), [], `${name} runs no proxy process of its own`);
  assert.ok(!existsSync(join(router, 'proxy.json')), `${name} has no proxy.json`);
  assert.ok(!existsSync(join(router, 'admin.secret')), `${name} made no admin secret`);
}

test(
  'replicas with separate data dirs drive one standalone proxy: the owner is killed mid-canary, the other takes over through it, no request fails',
  { skip, timeout: 150_000 },
  async (t) => {
    const { a, b } = await replicas(t);
    const proxy = await StandaloneProxy.start(t);
    const [v1, v2] = [await startVersion(t, '1.0.0'), await startVersion(t, '2.0.0')];

    await a.apply(spec('1.0.0', v1, proxy, ['setWeight: 50']));
    await a.waitForPhase('Healthy');
    const load = startLoad({ url: `http://${proxy.listen}/`, rps: 100, concurrency: 512, durationMs: 90_000 });
    t.after(() => load.stop());
    await a.apply(
      spec('2.0.0', v2, proxy, [
        'setWeight: 50',
        'pause: { duration: 4s }',
        'setWeight: 80',
        'pause: { duration: 1s }',
      ]),
    );
    const atCanary = await a.waitFor((s) => s.weights['2.0.0'] === 50, 'canary at 50%');
    assert.equal(atCanary.controller?.replica, 'a', 'a runs the release it was sent');
    assert.ok(
      existsSync(join(a.dataDir, 'services', 'checkout', 'router', 'attached.json')),
      "a's metrics read the attached proxy",
    );

    await a.kill('SIGKILL');
    const killedAt = Date.now();
    const taken = await b.waitFor((s) => s.controller?.replica === 'b', 'b holds the lease', 10_000);
    const takeoverMs = Date.now() - killedAt;
    t.diagnostic(`takeover after SIGKILL of the owner: ${takeoverMs} ms`);
    assert.ok(takeoverMs <= 5000, `taken over in ${takeoverMs} ms (5 s allowed)`);
    assert.ok(taken.controller!.epoch > atCanary.controller!.epoch, 'under a new epoch');

    const done = await b.waitFor(
      (s) => s.phase === 'Healthy' && s.stableVersion === '2.0.0',
      'v2 stable, finished by b',
      45_000,
    );
    assert.deepEqual(done.weights, { '2.0.0': 100 });
    assert.deepEqual(
      (await b.history()).map((r) => r.status),
      ['Succeeded', 'Succeeded'],
    );
    const report = await load.stop();
    assert.ok(report.sent > 300, `${report.sent} requests`);
    const failures = load.samples
      .filter((x) => x.status !== 200)
      .map((x) => ({ at: x.start - killedAt, status: x.status, error: x.error, skipped: x.skipped }));
    assert.equal(report.failed, 0, `ms after the kill, and why: ${JSON.stringify(failures)}`);

    // One proxy served it all: the one `sluice proxy` runs; its write log ends with b's epoch.
    const writes = proxy.writes();
    let highest = -1;
    for (const w of writes.filter((x) => x.accepted)) {
      assert.ok(w.epoch !== null && w.epoch >= highest, `no stale epoch accepted: ${JSON.stringify(writes)}`);
      highest = w.epoch;
    }
    assert.deepEqual(writes.at(-1), { ...writes.at(-1)!, epoch: taken.controller!.epoch, accepted: true });
    assert.ok(
      writes.some((w) => w.epoch === atCanary.controller!.epoch && w.accepted),
      "a's tables reached the same proxy",
    );
    assertNoProxyOfItsOwn(a, 'a');
    assertNoProxyOfItsOwn(b, 'b');
    assert.deepEqual(proxiesIn(proxy.dir), [proxy.pid], 'the standalone proxy is the only one');
    t.diagnostic(`${report.sent} requests, ${report.failed} failed, p99 ${Math.round(report.p99Ms)} ms`);
  },
);

test(
  'a standalone proxy that stops answering pauses the release with a recorded error; no replica starts one; a rollback is retried until it is back',
  { skip, timeout: 150_000 },
  async (t) => {
    const { a, b } = await replicas(t);
    const proxy = await StandaloneProxy.start(t);
    const [v1, v2] = [await startVersion(t, '1.0.0'), await startVersion(t, '2.0.0')];
    await a.apply(spec('1.0.0', v1, proxy, ['setWeight: 50']));
    await a.waitForPhase('Healthy');
    const load = startLoad({ url: `http://${proxy.listen}/`, rps: 50, concurrency: 512, durationMs: 90_000 });
    t.after(() => load.stop());
    await a.apply(spec('2.0.0', v2, proxy, ['setWeight: 20', 'pause: { duration: 60s }']));
    await a.waitFor((s) => s.weights['2.0.0'] === 20, 'canary at 20%');

    await proxy.kill();
    const paused = await a.waitFor(
      (s) => s.release?.status === 'Paused' && s.problems.some((p) => p.driver === 'router'),
      'paused, the router failure recorded',
      20_000,
    );
    const problem = paused.problems.find((p) => p.driver === 'router')!;
    t.diagnostic(
      `paused (${paused.release!.pause!.reason}): ${paused.release!.pause!.detail}; router: ${problem.error}`,
    );
    assert.match(problem.error, new RegExp(`proxy http://${proxy.admin}.*ECONNREFUSED`));
    assert.notEqual(paused.stableVersion, '2.0.0', 'not promoted');
    assertNoProxyOfItsOwn(a, 'a');
    assertNoProxyOfItsOwn(b, 'b');

    // A rollback while the proxy is down: decided, retried, and confirmed only once the proxy answers.
    assert.equal((await a.api('POST', '/api/services/checkout/abort', { reason: 'test' })).status, 200);
    await sleep(3000);
    const waiting = await a.status();
    assert.equal(waiting.lastRollback?.trafficRevertedAt ?? null, null, 'not reverted while the proxy is down');
    assert.match(
      waiting.problems.find((p) => p.driver === 'router')?.error ?? '',
      /could not apply the route table: .*ECONNREFUSED/,
    );
    assertNoProxyOfItsOwn(a, 'a');

    await proxy.run();
    const back = Date.now();
    const reverted = await a.waitFor(
      (s) => s.lastRollback?.trafficRevertedAt != null,
      'the revert confirmed once the proxy is back',
      20_000,
    );
    const revertMs = Date.parse(reverted.lastRollback!.trafficRevertedAt!) - back;
    t.diagnostic(`revert confirmed ${revertMs} ms after the proxy answered again`);
    // The apply is retried with a backoff of at most 5 s (route-keeper.ts).
    assert.ok(revertMs <= 5000 + 2000, `reverted ${revertMs} ms after the proxy answered (backoff 5 s + 2 s allowed)`);
    assert.deepEqual(reverted.weights, { '1.0.0': 100 });
    assert.ok(
      reverted.lastRollback!.hosts?.[`http://${proxy.admin}`],
      "the proxy's revert time is in the rollback log",
    );
    const served = JSON.parse(readFileSync(join(proxy.dir, 'state', 'routes.json'), 'utf8')) as {
      backends: { version: string; weight: number }[];
    };
    assert.deepEqual(
      served.backends.filter((x) => x.weight > 0).map((x) => [x.version, x.weight]),
      [['1.0.0', 100]],
    );
    assertNoProxyOfItsOwn(a, 'a');
    await load.stop();
  },
);
