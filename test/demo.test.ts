/**
 * `npm start` end to end: the narrated demo runs against a real sluice server with real traffic,
 * shows the automatic rollback of 2.0.0 and 3.0.0 reaching 100%, exits 0 by itself and leaves no
 * process and no temp dir behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TIMEOUT_MS = 120_000;
/** After a SIGINT the demo deletes the service and stops the server; give it this long. */
const CLEANUP_GRACE_MS = 25_000;

interface Run {
  code: number | null;
  signal: string | null;
  output: string;
}

function runDemo(): Promise<Run> {
  // Its own process group, like a terminal's foreground job: a timeout interrupts it as Ctrl-C would.
  const child = spawn(process.execPath, ['examples/demo.ts', '--quick'], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  return new Promise((resolve) => {
    const interrupt = setTimeout(() => child.kill('SIGINT'), TIMEOUT_MS);
    const kill = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS + CLEANUP_GRACE_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(interrupt);
      clearTimeout(kill);
      resolve({ code, signal, output });
    });
  });
}

/** pid → command line of every process running now. */
function processes(): Map<number, string> {
  const table = new Map<number, string>();
  for (const line of execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) table.set(Number(m[1]), m[2]);
  }
  return table;
}

const pidsIn = (text: string | undefined) => [...(text ?? '').matchAll(/\d+/g)].map((m) => Number(m[0]));

test(
  'npm start: the demo rolls 2.0.0 back, takes 3.0.0 to 100%, exits 0 and leaves nothing running',
  { timeout: TIMEOUT_MS + CLEANUP_GRACE_MS + 10_000 },
  async () => {
    const run = await runDemo();
    const out = run.output;
    assert.equal(run.code, 0, `the demo exits 0 (got ${run.code ?? run.signal}); its output:\n${out}`);

    assert.match(out, /ROLLBACK: rule error_rate failed/, 'narrates the automatic rollback as it happens');
    assert.match(out, /Automatic rollback of 2\.0\.0 \(rule error_rate\)/);
    const revert = /detected → traffic reverted in (\d+) ms \(revertMs\)/.exec(out);
    assert.ok(revert?.[1] !== undefined, `reports the revert time; output:\n${out}`);
    assert.ok(Number(revert[1]) < 5000, `traffic reverted within seconds (${revert[1]} ms)`);
    assert.match(out, /client side: first failed 2\.0\.0 response → last response from 2\.0\.0: \d+ ms/);
    assert.match(out, /checkout is Healthy: 3\.0\.0 takes 100% of traffic/, '3.0.0 reaches 100%');
    assert.match(out, /every other request was answered without error: yes/);

    // Everything the demo started: the server, the proxy, the instances, and its temp dir.
    const dataDir = /data in (\S+)\)/.exec(out)?.[1];
    assert.ok(dataDir !== undefined, 'the demo names its data dir');
    assert.equal(existsSync(dirname(dataDir)), false, `the temp dir ${dirname(dataDir)} is removed`);
    const left = /No process left behind: the proxy \(pid (\d+)\) and \d+ instances \(pids ([\d, ]+)\)/.exec(out);
    assert.ok(left !== null, `the demo names the pids it checked; output:\n${out}`);
    const serverPid = Number(/sluice server is up \(pid (\d+)\)/.exec(out)?.[1]);
    const proxyPid = Number(left[1]);
    const instancePids = pidsIn(left[2]);
    assert.equal(instancePids.length, 6, 'two instances each of 1.0.0, 2.0.0 and 3.0.0');

    const running = processes();
    const ours: [number, string][] = [
      [serverPid, 'sluice.js server'],
      [proxyPid, 'proxy/main.ts'],
      ...instancePids.map((p): [number, string] => [p, 'server.ts']),
    ];
    for (const [pid, marker] of ours) {
      const args = running.get(pid);
      assert.ok(args === undefined || !args.includes(marker), `pid ${pid} (${marker}) is gone, found: ${args}`);
    }
    const inDataDir = [...running.values()].filter((args) => args.includes(dataDir));
    assert.deepEqual(inDataDir, [], `no process runs with the demo's data dir ${dataDir}`);
  },
);
