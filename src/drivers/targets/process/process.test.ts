import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import type { Instance } from '../../../core/types.ts';
import type { TargetSignal } from '../types.ts';
import { targetConformance, type TargetFixture } from '../conformance.ts';
import { bodyOf, httpGet } from '../fixtures/http-get.ts';
import { waitFor } from '../fixtures/wait-for.ts';
import { processTarget, type ProcessTargetConfig } from './index.ts';
import { logPath, readState } from './instance-files.ts';
import { isAlive } from './process-group.ts';
import { serviceProcesses } from './fixtures/service-processes.ts';
import { ECHO_SERVER, PROCESS_DIR, makeService, setup } from './fixtures/test-service.ts';

const CONTROLLER_CHILD = path.join(PROCESS_DIR, 'fixtures', 'controller-child.ts');

function only<T>(items: T[]): T {
  assert.equal(items.length, 1);
  return items[0] as T;
}

targetConformance('process', async (): Promise<TargetFixture<ProcessTargetConfig>> => {
  const svc = makeService();
  return {
    service: svc.service,
    create: svc.create,
    revision: async (key, version) => svc.rev(key, version),
    neverReady: async (key) => ({
      rev: svc.rev(key, 'never', { env: { NEVER_READY: '1' }, readiness: { interval: '50ms', timeout: '1s' } }),
      timeoutMs: 1000,
    }),
    cleanup: svc.cleanup,
  };
});

describe('process target', { timeout: 30_000 }, () => {
  test('config: defaults filled, unknown fields and bad values refused', () => {
    const config = processTarget.config.parse({ driver: 'process', command: ['srv'] });
    assert.deepEqual(config, {
      driver: 'process',
      command: ['srv'],
      env: {},
      instances: 1,
      readiness: { path: '/healthz', timeout: 30_000, interval: 200 },
      stopTimeout: 10_000,
      maxRestarts: 5,
    });
    assert.equal(processTarget.config.safeParse({ driver: 'process', command: ['srv'], replicas: 2 }).success, false);
    assert.equal(processTarget.config.safeParse({ driver: 'process', command: [] }).success, false);
    assert.equal(processTarget.config.safeParse({ driver: 'process', command: ['srv'], instances: 65 }).success, false);
    const badPath = processTarget.config.safeParse({
      driver: 'process',
      command: ['srv'],
      readiness: { path: 'healthz' },
    });
    assert.match(JSON.stringify(badPath.error?.issues), /readiness.*path|absolute path/);
  });

  test('runs N instances on distinct ports, each answering', async (t) => {
    const s = setup(t);
    const instances = await s.start(s.rev('1', 'v1', { instances: 2 }));
    assert.deepEqual(
      instances.map((i) => i.id),
      ['1-1', '1-2'],
    );
    assert.notEqual(instances[0]?.detail?.port, instances[1]?.detail?.port);
    for (const instance of instances) {
      assert.equal(instance.url, `http://127.0.0.1:${instance.detail?.port}`);
      assert.equal(instance.detail?.pgid, instance.detail?.pid);
      assert.equal(await bodyOf(instance.url + '/'), 'v1');
    }
    assert.equal(serviceProcesses(s.service).length, 2);
  });

  test('passes config env, PORT and the SLUICE_* variables', async (t) => {
    const s = setup(t);
    const instance = only(await s.start(s.rev('4', '2.0.1', { env: { GREETING: 'hello there' } })));
    const env = async (name: string) => bodyOf(`${instance.url}/env/${name}`);
    assert.equal(await env('GREETING'), 'hello there');
    assert.equal(await env('PORT'), String(instance.detail?.port));
    assert.equal(await env('SLUICE_SERVICE'), s.service);
    assert.equal(await env('SLUICE_VERSION'), '2.0.1');
    assert.equal(await env('SLUICE_REVISION'), '4');
    assert.equal(await env('SLUICE_INSTANCE'), '4-1');
    assert.equal(await env('PATH'), process.env.PATH, 'inherits the controller environment');
  });

  test('a relative program path and cwd resolve against the revision baseDir', async (t) => {
    const s = setup(t);
    const baseDir = path.dirname(PROCESS_DIR); // src/drivers/targets
    const program = path.relative(baseDir, process.execPath);
    assert.ok(program.includes('/') && !path.isAbsolute(program));
    // The program resolves against baseDir, the script against cwd (= baseDir/fixtures).
    const rev = s.rev('1', 'v1', { command: [program, 'echo-server.ts'], cwd: 'fixtures' }, baseDir);
    const instance = only(await s.start(rev));
    assert.equal(await bodyOf(instance.url + '/'), 'v1');
  });

  test('writes stdout and stderr to <serviceDir>/target/<key>/<id>.log', async (t) => {
    const s = setup(t);
    const rev = s.rev('1', 'v1');
    const instance = only(await s.start(rev));
    const file = logPath(s.serviceDir, '1', '1-1');
    assert.equal(file, path.join(s.serviceDir, 'target', '1', '1-1.log'));
    assert.match(
      readFileSync(file, 'utf8'),
      new RegExp(`echo-server v1 listening on 127.0.0.1:${instance.detail?.port}`),
    );
    await s.target.stop(rev, [instance]);
    assert.match(readFileSync(file, 'utf8'), /SIGTERM, closing/);
  });

  test('a crashed instance is restarted on the same port and signalled', async (t) => {
    const s = setup(t);
    const signals: TargetSignal[] = [];
    s.target.onSignal((signal) => signals.push(signal));
    const rev = s.rev('1', 'v1');
    const instance = only(await s.start(rev));
    const oldPid = Number(instance.detail?.pid);
    process.kill(oldPid, 'SIGKILL');
    await waitFor('a crash signal', () => signals.length > 0);
    const signal = signals[0] as TargetSignal;
    assert.deepEqual(
      { ...signal, at: 0 },
      {
        kind: 'crashed',
        key: '1',
        instanceId: '1-1',
        exitCode: null,
        signal: 'SIGKILL',
        restarted: true,
        at: 0,
      },
    );
    await waitFor('the instance to answer again', async () => (await bodyOf(instance.url + '/')) === 'v1');
    const newPid = readState(s.serviceDir, '1', '1-1')?.pid;
    assert.ok(newPid !== undefined && newPid !== oldPid && isAlive(newPid), 'a new process serves the same port');
    // The engine still holds the old pid; stop must end the restarted process anyway.
    await s.target.stop(rev, [instance]);
    assert.equal(isAlive(newPid), false);
    assert.equal(signals.length, 1, 'a stop is not a crash');
  });

  test('beyond maxRestarts a crashing instance stays down (restarted: false)', async (t) => {
    const s = setup(t);
    const signals: TargetSignal[] = [];
    s.target.onSignal((signal) => signals.push(signal));
    only(await s.start(s.rev('1', 'v1', { env: { CRASH_AFTER_MS: '1000' }, maxRestarts: 1 })));
    await waitFor('two crash signals', () => signals.length >= 2);
    assert.deepEqual(
      signals.map((x) => [x.exitCode, x.restarted]),
      [
        [1, true],
        [1, false],
      ],
    );
    assert.deepEqual(serviceProcesses(s.service), [], 'nothing restarted it after the last crash');
    assert.ok(s.logs.some((l) => l.level === 'error' && /stays down/.test(l.message)));
  });

  test('instances outlive a killed controller; a new one adopts them without duplicates', async (t) => {
    const s = setup(t);
    const controller = spawn(process.execPath, [CONTROLLER_CHILD, s.serviceDir, s.service, ECHO_SERVER], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.after(() => controller.kill('SIGKILL'));
    const [line] = await createInterface({ input: controller.stdout })
      [Symbol.asyncIterator]()
      .next()
      .then((r) => [r.value as string]);
    const instances = JSON.parse(line ?? '[]') as Instance[];
    const instance = only(instances);
    controller.kill('SIGKILL');
    await new Promise((resolve) => controller.once('exit', resolve));

    assert.equal(await bodyOf(instance.url + '/'), 'v1', 'still serving after the controller died');
    const rev = s.rev('1', 'v1');
    const adopted = await s.target.adopt(rev, instances);
    assert.deepEqual(adopted, instances, 'same pid, same url');
    assert.deepEqual(serviceProcesses(s.service), [Number(instance.detail?.pid)], 'no duplicate started');

    await s.target.stop(rev, adopted);
    assert.equal(isAlive(Number(instance.detail?.pid)), false);
    assert.ok('error' in (await httpGet(instance.url + '/')));
  });

  test('a start cut short by a controller crash: starting again stops the leftovers first', async (t) => {
    const s = setup(t);
    const rev = s.rev('1', 'v1', { instances: 2 });
    // A first controller started the revision and died before reporting it: nobody stops these.
    const first = s.create();
    const orphans = await first.start(rev, AbortSignal.timeout(15_000));
    await first.close(); // the dead controller's supervisor watches nothing any more
    const orphanPids = orphans.map((i) => Number(i.detail?.pid));
    const fresh = await s.start(rev);
    assert.equal(fresh.length, 2);
    for (const pid of orphanPids) await waitFor(`leftover ${pid} stopped`, () => !isAlive(pid));
    for (const i of fresh) assert.ok(!('error' in (await httpGet(i.url + '/'))), `${i.url} answers`);
    assert.ok(s.logs.some((l) => l.level === 'warn' && /left over from an interrupted start/.test(l.message)));
  });

  test('adopt restarts a dead instance on its recorded port', async (t) => {
    const s = setup(t);
    const rev = s.rev('1', 'v1');
    const first = s.create();
    const instance = only(await first.start(rev, AbortSignal.timeout(15_000)));
    await first.close();
    process.kill(Number(instance.detail?.pid), 'SIGKILL');
    await waitFor('the instance to die', () => !isAlive(Number(instance.detail?.pid)));

    const adopted = only(await s.target.adopt(rev, [instance]));
    s.track(rev, [adopted]);
    assert.equal(adopted.url, instance.url);
    assert.notEqual(adopted.detail?.pid, instance.detail?.pid);
    assert.equal(await bodyOf(adopted.url + '/'), 'v1');
    assert.equal(serviceProcesses(s.service).length, 1);
  });

  test('an unknown command rejects clearly (ENOENT), as does a missing cwd', async (t) => {
    const s = setup(t);
    await assert.rejects(s.start(s.rev('1', 'v1', { command: ['sluice-no-such-command'] })), (err: Error) => {
      assert.match(err.message, new RegExp(`service "${s.service}" revision 1 .*instance 1-1`));
      assert.match(err.message, /command "sluice-no-such-command" was not found \(spawn ENOENT/);
      return true;
    });
    const cwd = path.join(s.serviceDir, 'missing');
    await assert.rejects(s.start(s.rev('2', 'v2', { cwd })), new RegExp(`working directory "${cwd}" does not exist`));
  });

  test('an instance exiting before ready rejects with its exit code and log tail', async (t) => {
    const s = setup(t);
    const rev = s.rev('1', 'v1', { env: { NEVER_READY: '1', CRASH_AFTER_MS: '100' }, instances: 2 });
    await assert.rejects(s.start(rev), (err: Error) => {
      assert.match(err.message, /instance 1-\d exited with code 1 before it was ready/);
      assert.match(err.message, /\| echo-server v1: crashing on purpose after 100ms/);
      return true;
    });
    assert.deepEqual(serviceProcesses(s.service), [], 'the other instance was stopped too');
  });

  test('an aborted start stops what it started', async (t) => {
    const s = setup(t);
    const rev = s.rev('1', 'v1', { env: { NEVER_READY: '1' }, instances: 2 });
    const began = Date.now();
    await assert.rejects(
      s.target.start(rev, AbortSignal.timeout(300)),
      /was stopped before it was ready: start aborted/,
    );
    assert.ok(Date.now() - began < 3000);
    assert.deepEqual(serviceProcesses(s.service), []);
  });

  test('stop sends SIGKILL when SIGTERM is ignored past stopTimeout', async (t) => {
    const s = setup(t);
    const rev = s.rev('1', 'v1', { env: { IGNORE_SIGTERM: '1' }, stopTimeout: '500ms' });
    const instance = only(await s.start(rev));
    const began = Date.now();
    await s.target.stop(rev, [instance]);
    const took = Date.now() - began;
    assert.ok(took >= 500 && took < 3000, `stop took ${took}ms`);
    assert.equal(isAlive(Number(instance.detail?.pid)), false);
    assert.match(readFileSync(logPath(s.serviceDir, '1', '1-1'), 'utf8'), /SIGTERM ignored/);
    assert.ok(s.logs.some((l) => l.level === 'warn' && /sent SIGKILL/.test(l.message)));
    assert.equal(existsSync(path.join(s.serviceDir, 'target', '1', '1-1.json')), false, 'state file removed');
  });
});
