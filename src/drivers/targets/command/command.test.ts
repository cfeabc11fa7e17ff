import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TargetRevision } from '../types.ts';
import { targetConformance, type TargetFixture } from '../conformance.ts';
import { bodyOf } from '../fixtures/http-get.ts';
import { waitFor } from '../fixtures/wait-for.ts';
import { isAlive } from '../process/process-group.ts';
import { probeUrl } from '../readiness.ts';
import { commandTarget, parseInstances, type CommandTargetConfig } from './index.ts';

const DEPLOYER = fileURLToPath(new URL('./fixtures/deployer.ts', import.meta.url));
const tool = (command: string) => ['node', DEPLOYER, command];
let services = 0;

type Logged = { level: string; message: string; detail?: Record<string, unknown> };

/** A temp state folder for the deployer; `cleanup` kills whatever it still records, then removes it. */
async function stateDir() {
  const dir = await mkdtemp(path.join(tmpdir(), 'sluice-command-'));
  const cleanup = async () => {
    for (const file of await readdir(dir)) {
      const text = await readFile(path.join(dir, file), 'utf8');
      const pids = file.endsWith('.json')
        ? (JSON.parse(text) as Array<{ pid: number }>).map((r) => -r.pid)
        : file.endsWith('.pid')
          ? [Number(text)]
          : [];
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    await rm(dir, { recursive: true, force: true });
  };
  return { dir, cleanup };
}

function revision(key: string, version: string, config: Record<string, unknown>): TargetRevision<CommandTargetConfig> {
  const parsed = commandTarget.config.parse({
    driver: 'command',
    deploy: tool('deploy'),
    undeploy: tool('undeploy'),
    instances: tool('instances'),
    ...config,
  });
  return { key, version, config: parsed, baseDir: path.dirname(DEPLOYER) };
}

targetConformance('command', async (): Promise<TargetFixture<CommandTargetConfig>> => {
  const service = `command-test-${++services}`;
  const state = await stateDir();
  const ctx = { service, serviceDir: '/nonexistent', log: () => {} };
  return {
    service,
    create: () => commandTarget.create(ctx),
    revision: async (key, version) =>
      revision(key, version, { env: { STATE_DIR: state.dir }, readiness: { interval: '50ms', timeout: '10s' } }),
    neverReady: async (key) => ({
      // One instance: the contract times start() end to end, and deploy/instances/undeploy are each a Node start-up.
      rev: revision(key, 'never', {
        env: { STATE_DIR: state.dir, NEVER_READY: '1', INSTANCES: '1' },
        readiness: { interval: '50ms', timeout: '1s' },
      }),
      timeoutMs: 1000,
    }),
    skip: {
      instanceFaults:
        'instances run wherever the commands put them; Sluice holds no process of theirs to signal, so a drill refuses instance faults',
    },
    cleanup: state.cleanup,
  };
});

describe('command target', { timeout: 30_000 }, () => {
  async function setup(t: TestContext) {
    const state = await stateDir();
    const logs: Logged[] = [];
    const service = `command-unit-${++services}`;
    const target = commandTarget.create({
      service,
      serviceDir: '/nonexistent',
      log: (level, message, detail) => void logs.push({ level, message, detail }),
    });
    t.after(async () => {
      await target.close();
      await state.cleanup();
    });
    return { state, logs, service, target };
  }

  test('commands get SLUICE_* variables; their output goes to the release log; stop passes the instance ids', async (t) => {
    const { state, logs, service, target } = await setup(t);
    const rev = revision('4', '4.0.0', { env: { STATE_DIR: state.dir, OUTPUT: 'array' } });
    const instances = await target.start(rev, AbortSignal.timeout(20_000));
    assert.deepEqual(
      instances.map((i) => i.id),
      ['4-1', '4-2'],
    );
    await waitFor('instances to listen', async () => (await bodyOf(probeUrl(instances[0]!.url, '/'))) === '4.0.0');
    assert.equal(await bodyOf(probeUrl(instances[0]!.url, '/env/SLUICE_SERVICE')), service);
    assert.equal(await bodyOf(probeUrl(instances[0]!.url, '/env/SLUICE_REVISION')), '4');
    assert.deepEqual(
      logs.find((l) => l.message.startsWith('deploy: deployed')),
      {
        level: 'info',
        message: 'deploy: deployed 4.0.0 as revision 4: 2 instance(s)',
        detail: { command: 'deploy', stream: 'stdout', revision: '4', version: '4.0.0' },
      },
    );
    assert.ok(
      logs.some((l) => l.level === 'warn' && l.message === 'deploy: deployer: a line on stderr'),
      'stderr is logged as warn',
    );
    assert.ok(!logs.some((l) => l.message.startsWith('instances:')), 'the instances list is data, not log lines');
    await target.stop(rev, instances);
    assert.ok(logs.some((l) => l.message === 'undeploy: undeployed revision 4 (2 instance(s); ids asked: 1,2)'));
  });

  test('adopt keeps only the instances the instances command still lists', async (t) => {
    const { state, target } = await setup(t);
    const rev = revision('5', '5.0.0', { env: { STATE_DIR: state.dir, INSTANCES: '1' } });
    const instances = await target.start(rev, AbortSignal.timeout(20_000));
    const gone = { id: '5-9', url: 'http://127.0.0.1:1', detail: { id: '9' } };
    assert.deepEqual(await target.adopt(rev, [...instances, gone]), instances);
    await target.stop(rev, instances);
    assert.deepEqual(await target.adopt(rev, instances), []);
  });

  test('a command past its timeout fails and its whole process group is killed', async (t) => {
    const { state, target } = await setup(t);
    // 2 s: room for the deployer to start and print on a busy machine before it is killed.
    const rev = revision('6', '6.0.0', { env: { STATE_DIR: state.dir, HANG: '1' }, timeout: '2s' });
    const began = Date.now();
    await assert.rejects(
      target.start(rev, AbortSignal.timeout(20_000)),
      /service "command-unit-\d+" revision 6 \(version 6\.0\.0\): deploy command \[.*\] did not finish within 2000ms; its process group was killed; last output: deploying 6\.0\.0 \.\.\. \(hanging on purpose\)/,
    );
    const elapsed = Date.now() - began;
    assert.ok(elapsed >= 1900 && elapsed < 6000, `failed soon after the timeout (${elapsed} ms)`);
    const child = Number(await readFile(path.join(state.dir, 'hung-child.pid'), 'utf8'));
    await waitFor(`forked child ${child} to be gone`, () => !isAlive(child), 5000);
  });

  test('a failing or missing command is an error with its exit code and last output', async (t) => {
    const { target } = await setup(t);
    const failing = revision('7', '7.0.0', {
      deploy: ['node', '-e', "console.error('no capacity in eu-west-1'); process.exit(3)"],
    });
    await assert.rejects(
      target.start(failing, AbortSignal.timeout(20_000)),
      /revision 7 \(version 7\.0\.0\): deploy command .* exited with code 3; last output: no capacity in eu-west-1/,
    );
    const missing = revision('8', '8.0.0', { deploy: ['./no-such-deploy.sh'] });
    await assert.rejects(
      target.start(missing, AbortSignal.timeout(20_000)),
      /deploy command \[".*\/no-such-deploy\.sh"\] could not be started in .*: ENOENT/,
    );
  });

  test('a deploy whose instances cannot be read is undeployed and fails, saying why', async (t) => {
    const { state, logs, target } = await setup(t);
    const rev = revision('9', '9.0.0', {
      env: { STATE_DIR: state.dir },
      instances: ['node', '-e', "console.log('web-1 10.0.0.5:8080')"],
    });
    await assert.rejects(
      target.start(rev, AbortSignal.timeout(20_000)),
      /revision 9 .*: the instances command's output: line 1 is not JSON: "web-1 10\.0\.0\.5:8080"/,
    );
    assert.ok(
      logs.some((l) => l.message.startsWith('undeploy: undeployed revision 9 (2 instance(s)')),
      'undeployed what it deployed',
    );
  });

  test('config: three argv commands, no shell strings; durations parsed', () => {
    const c = commandTarget.config.parse({
      driver: 'command',
      deploy: ['a'],
      undeploy: ['b'],
      instances: ['c'],
      timeout: '90s',
    });
    assert.deepEqual(c, {
      driver: 'command',
      deploy: ['a'],
      undeploy: ['b'],
      instances: ['c'],
      env: {},
      timeout: 90_000,
    });
    assert.throws(
      () => commandTarget.config.parse({ driver: 'command', deploy: 'deploy.sh', undeploy: ['b'], instances: ['c'] }),
      /deploy/,
    );
    assert.throws(
      () => commandTarget.config.parse({ driver: 'command', deploy: [], undeploy: ['b'], instances: ['c'] }),
      /give at least the program to run/,
    );
  });
});

test('instances output: a JSON array or JSON lines of {id, url}', () => {
  const expected = [
    { id: '3-a', url: 'http://10.0.0.5:8080', detail: { id: 'a' } },
    { id: '3-2', url: 'https://b.example/', detail: { id: '2' } },
  ];
  assert.deepEqual(
    parseInstances('[{"id":"a","url":"http://10.0.0.5:8080"},{"id":2,"url":"https://b.example/"}]', '3'),
    expected,
  );
  assert.deepEqual(
    parseInstances('{"id":"a","url":"http://10.0.0.5:8080"}\n\n{"id":2,"url":"https://b.example/","zone":"b"}\n', '3'),
    expected,
  );
  assert.deepEqual(parseInstances('  \n', '3'), []);
  assert.throws(
    () => parseInstances('{"id":"a","url":"10.0.0.5:8080"}', '3'),
    /line 1 is not an instance \(url: url must be an http\(s\) URL/,
  );
  assert.throws(() => parseInstances('[{"url":"http://x"}]', '3'), /item 0 is not an instance \(id: /);
  assert.throws(
    () => parseInstances('{"id":"a","url":"http://x"}\n{"id":"a","url":"http://y"}', '3'),
    /line 2: instance id "a" is listed twice/,
  );
  assert.throws(() => parseInstances('[{"id":"a"', '3'), /starts with "\[" but is not a JSON array/);
});
