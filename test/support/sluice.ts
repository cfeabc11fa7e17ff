/**
 * A real `sluice server` process for end-to-end tests: temp data dir, free loopback ports, the
 * HTTP API, and cleanup that leaves no instance, proxy or server behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeListenPort } from '../../src/drivers/free-port.ts';
import type { ReleaseView, ServiceStatus } from '../../src/views/index.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SERVICE_SCRIPT = join(ROOT, 'examples/service/server.ts');
export const CLI = join(ROOT, 'bin/sluice.js');

/** Ports for listeners (the server, routers): outside the range instances get their ports from. */
export const freePort = freeListenPort;

export interface SpecOptions {
  name?: string;
  version: string;
  listenPort: number;
  env?: Record<string, string>;
  instances?: number;
  steps?: string[];
  contract?: string;
}

/** A Service spec for the example service, in YAML as a user writes it. */
export function serviceSpec(o: SpecOptions): string {
  const env = Object.entries(o.env ?? {})
    .map(([k, v]) => `${k}: "${v}"`)
    .join(', ');
  const steps = o.steps ?? ['setWeight: 20', 'pause: { duration: 2s }', 'setWeight: 60', 'pause: { duration: 2s }'];
  return `apiVersion: sluice.dev/v1alpha1
kind: Service
metadata:
  name: ${o.name ?? 'checkout'}
spec:
  version: "${o.version}"
  target:
    driver: process
    command: ["node", "${SERVICE_SCRIPT}"]
    env: { ${env} }
    readiness: { path: /healthz, timeout: 10s }
    instances: ${o.instances ?? 2}
  router:
    driver: builtin
    listen: 127.0.0.1:${o.listenPort}
    stickiness: { header: x-user-id }
  strategy:
    canary:
      steps:
${steps.map((s) => `        - ${s}`).join('\n')}
  rollbackContract:
${
  o.contract ??
  `    interval: 250ms
    window: 5s
    minSamples: 20
    rules:
      - { metric: error_rate, failIf: { above: baseline, by: 0.02 } }
      - { metric: latency_p95, failIf: { above: baseline, by: 300ms } }`
}
`;
}

/** A server in a network namespace: its name, and the address there the API listens on. */
export interface ServerNetns {
  name: string;
  host: string;
}

export class SluiceServer {
  readonly dataDir: string;
  readonly port: number;
  readonly url: string;
  #child: ChildProcess | null = null;
  #log = '';
  #token = '';
  readonly #args: string[];
  readonly #netns: ServerNetns | undefined;

  private constructor(dataDir: string, port: number, args: string[] = [], netns?: ServerNetns) {
    this.dataDir = dataDir;
    this.port = port;
    this.url = `http://${netns?.host ?? '127.0.0.1'}:${port}`;
    this.#args = args;
    this.#netns = netns;
  }

  /**
   * `args`: more `sluice server` flags (a replica's --store and --replica-id); `dataDir` and
   * `token`: a second replica sharing the first one's data dir and its e2e-test token; `netns`: run
   * in that network namespace (as root), serving the API on its address.
   */
  static async start(
    o: { args?: string[]; dataDir?: string; token?: string; netns?: ServerNetns } = {},
  ): Promise<SluiceServer> {
    const s = new SluiceServer(
      o.dataDir ?? mkdtempSync(join(tmpdir(), 'sluice-e2e-')),
      await freePort(),
      o.args,
      o.netns,
    );
    try {
      await s.restart();
      if (o.token !== undefined) s.#token = o.token;
      else await s.#authorise();
    } catch (err) {
      // Nobody holds this server to close it: leave no process and no data dir behind.
      await s.kill('SIGKILL');
      killLeftovers(s.dataDir);
      rmSync(s.dataDir, { recursive: true, force: true });
      throw err;
    }
    return s;
  }

  /** The token the server created on first start, from <data-dir>/admin.token. */
  get adminToken(): string {
    return readFileSync(join(this.dataDir, 'admin.token'), 'utf8').trim();
  }

  /** The admin token api() sends: named `e2e-test`, the actor of everything the tests do. */
  get token(): string {
    return this.#token;
  }

  /** A token of `role` named `name`, made with the admin token (docs/access.md). */
  async createToken(role: 'viewer' | 'deployer' | 'approver' | 'admin', name: string): Promise<string> {
    const res = await fetch(`${this.url}/api/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ role, name }),
    });
    const body = (await res.json()) as { token?: string };
    if (!res.ok || body.token === undefined)
      throw new Error(`creating token ${name} failed (${res.status}): ${JSON.stringify(body)}`);
    return body.token;
  }

  async #authorise(): Promise<void> {
    this.#token = await this.createToken('admin', 'e2e-test');
  }

  /** (Re)start the server process on the same data dir and port. */
  async restart(): Promise<void> {
    const command = [process.execPath, CLI, 'server', '--data-dir', this.dataDir, '--port', String(this.port)];
    const netns = this.#netns;
    // `ip netns exec` execs the server, so the child's pid is the server's (kill and SIGSTOP reach it).
    const child = spawn(
      netns === undefined ? command[0]! : 'ip',
      netns === undefined
        ? [...command.slice(1), ...this.#args]
        : ['netns', 'exec', netns.name, ...command, '--host', netns.host, ...this.#args],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' },
      },
    );
    child.stdout!.on('data', (d) => (this.#log += d));
    child.stderr!.on('data', (d) => (this.#log += d));
    this.#child = child;
    // Not the port race (fixed in 8383126) but CPU: a start takes under a second on an idle machine,
    // yet 42 starts measured with two test runs side by side on 2 cores at load average 9-13 took
    // 6.4 s (median), 10.4 s (p90) and over 15 s (max). 30 s keeps a starved machine from failing.
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      if (child.exitCode !== null) throw new Error(`sluice server exited ${child.exitCode}:\n${this.#log}`);
      try {
        if ((await fetch(`${this.url}/healthz`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // A server that never answered is not left running (it once outlived its test as an orphan).
    await this.kill('SIGKILL');
    throw new Error(`sluice server did not answer within 30 s:\n${this.#log}`);
  }

  get log(): string {
    return this.#log;
  }

  /** The server process's pid (SIGSTOP/SIGCONT a replica: a pause, not a death). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** SIGKILL the control plane: no shutdown code runs, like a crash. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  async api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.#token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  async apply(spec: string): Promise<{ service: string; action: string }[]> {
    const r = await this.api<{ results: { service: string; action: string }[]; error?: { message: string } }>(
      'POST',
      '/api/apply',
      { spec, file: 'test.yaml', baseDir: ROOT },
    );
    if (r.status !== 200) throw new Error(`apply failed (${r.status}): ${JSON.stringify(r.body)}`);
    return r.body.results;
  }

  async status(name = 'checkout'): Promise<ServiceStatus> {
    const r = await this.api<ServiceStatus>('GET', `/api/services/${name}`);
    if (r.status !== 200) throw new Error(`status failed (${r.status}): ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async history(name = 'checkout'): Promise<ReleaseView[]> {
    const r = await this.api<{ releases: ReleaseView[] }>('GET', `/api/services/${name}/history`);
    if (r.status !== 200) throw new Error(`history failed (${r.status}): ${JSON.stringify(r.body)}`);
    return r.body.releases;
  }

  /** Poll until `check` holds; fails with the last status and the server log. */
  async waitFor(
    check: (s: ServiceStatus) => boolean,
    what: string,
    timeoutMs = 30_000,
    name = 'checkout',
  ): Promise<ServiceStatus> {
    const until = Date.now() + timeoutMs;
    let last: ServiceStatus | null = null;
    while (Date.now() < until) {
      // A service that does not exist yet (an environment before its first release) is waited for.
      const r = await this.api<ServiceStatus>('GET', `/api/services/${name}`);
      if (r.status !== 200 && r.status !== 404)
        throw new Error(`status failed (${r.status}): ${JSON.stringify(r.body)}`);
      if (r.status === 200) {
        last = r.body;
        if (check(last)) return last;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(
      `timed out waiting for ${what}; last status:\n${JSON.stringify(last, null, 2)}\nserver log:\n${this.#log.slice(-3000)}`,
    );
  }

  waitForPhase(phase: ServiceStatus['phase'], timeoutMs = 30_000, name = 'checkout'): Promise<ServiceStatus> {
    return this.waitFor(
      (s) =>
        s.phase === phase && (s.release === null || !['Starting', 'Progressing', 'Paused'].includes(s.release.status)),
      `phase ${phase}`,
      timeoutMs,
      name,
    );
  }

  /** Delete every service (stops instances and proxies), stop the server, remove the data dir. */
  async close(): Promise<void> {
    const deleteAll = async () => {
      if (this.#child?.exitCode !== null || this.#child?.signalCode !== null) await this.restart();
      const list = await this.api<{ services: { service: string }[] }>('GET', '/api/services');
      for (const s of list.body.services) await this.api('DELETE', `/api/services/${s.service}`);
    };
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        process.stderr.write('sluice harness: deleting services took over 30 s; killing what is left\n');
        resolve();
      }, 30_000);
    });
    try {
      await Promise.race([deleteAll(), giveUp]);
    } finally {
      clearTimeout(timer);
      await this.kill('SIGTERM');
      const killed = killLeftovers(this.dataDir);
      if (killed.length > 0)
        process.stderr.write(
          `sluice harness: killed ${killed.length} leftover instance/proxy processes (${killed.join(', ')})\n`,
        );
      rmSync(this.dataDir, { recursive: true, force: true });
    }
  }
}

/**
 * A server with `checkout` 1.0.0 deployed and Healthy on a free port; everything is torn down
 * after the test.
 */
export async function deployedServer(
  t: { after: (fn: () => Promise<void>) => void },
  spec: Partial<SpecOptions> = {},
): Promise<{ server: SluiceServer; listenPort: number }> {
  const server = await SluiceServer.start();
  t.after(() => server.close());
  const listenPort = await freePort();
  await server.apply(serviceSpec({ version: '1.0.0', listenPort, ...spec }));
  await server.waitForPhase('Healthy');
  return { server, listenPort };
}

/**
 * Safety net: no instance or proxy recorded under the data dir outlives its test or benchmark
 * (a failed delete, a crash of the test). Only processes whose command line names this tree are
 * ended, in case a pid was reused.
 */
export function killLeftovers(dataDir: string): number[] {
  const servicesDir = join(dataDir, 'services');
  let files: string[];
  try {
    files = readdirSync(servicesDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const killed: number[] = [];
  for (const file of files) {
    try {
      const { pid } = JSON.parse(readFileSync(join(servicesDir, file), 'utf8')) as { pid?: unknown };
      if (typeof pid !== 'number' || !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(ROOT)) continue;
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // not a state file, or the process is gone already
    }
  }
  return killed;
}

/** The pids listening behind a status's instance URLs are checked by asking the URLs. */
export async function answers(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}
