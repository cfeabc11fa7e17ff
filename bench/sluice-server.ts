/**
 * A real `sluice server` process for one benchmark run, with a small client for the API calls the
 * benchmark needs. `close()` deletes every service it applied (which stops their instances and
 * proxies), SIGTERMs the server, then ends any instance or proxy a failed delete left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceStatus, ReleaseView } from '../src/engine/status.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const START_TIMEOUT_MS = 15_000;
const CALL_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

export interface SluiceServer {
  url: string;
  dataDir: string;
  apply(spec: string): Promise<void>;
  status(service: string): Promise<ServiceStatus>;
  history(service: string): Promise<ReleaseView[]>;
  /** Polls the status until `done` holds; throws after `timeoutMs` with the last status. */
  waitFor(service: string, what: string, done: (s: ServiceStatus) => boolean, timeoutMs: number): Promise<ServiceStatus>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function waitForListening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`sluice server did not listen within ${START_TIMEOUT_MS} ms: ${text.slice(-500)}`)), START_TIMEOUT_MS);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      text += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`sluice server exited (${signal ?? `code ${code}`}) before listening: ${text.slice(-500)}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of instances and proxies recorded under the data dir that still run a file of this tree. */
async function leftovers(dataDir: string): Promise<number[]> {
  const servicesDir = join(dataDir, 'services');
  const files = (await readdir(servicesDir, { recursive: true }).catch(() => [] as string[]))
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(servicesDir, f));
  const pids: number[] = [];
  for (const file of files) {
    const pid = (JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as { pid?: unknown }).pid;
    if (typeof pid !== 'number' || !isAlive(pid)) continue;
    // Guard against a reused pid: only end a process whose command line names this tree.
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(ROOT)) pids.push(pid);
  }
  return pids;
}

export async function startSluiceServer(): Promise<SluiceServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
  const child = spawn(process.execPath, [join(ROOT, 'bin/sluice.js'), 'server', '--data-dir', dataDir, '--port', '0', '--host', '127.0.0.1'], {
    cwd: ROOT,
    env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const applied = new Set<string>();
  let url: string;
  try {
    url = await waitForListening(child);
  } catch (err) {
    await stopChild(child);
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }

  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${path}`, {
      method,
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const reply = (await res.json().catch(() => null)) as T & { error?: { message?: string } };
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${reply?.error?.message ?? 'no JSON body'}`);
    return reply;
  };

  const status = (service: string) => call<ServiceStatus>('GET', `/api/services/${service}`);
  return {
    url,
    dataDir,
    async apply(spec) {
      const { results } = await call<{ results: { service: string }[] }>('POST', '/api/apply', { spec, baseDir: ROOT });
      for (const r of results) applied.add(r.service);
    },
    status,
    async history(service) {
      return (await call<{ releases: ReleaseView[] }>('GET', `/api/services/${service}/history`)).releases;
    },
    async waitFor(service, what, done, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let last: ServiceStatus | null = null;
      while (Date.now() < deadline) {
        last = await status(service);
        if (done(last)) return last;
        await sleep(100);
      }
      throw new Error(`service ${service}: not ${what} within ${timeoutMs} ms (phase ${last?.phase}, weights ${JSON.stringify(last?.weights)})`);
    },
    async close() {
      const problems: string[] = [];
      for (const service of applied) {
        await call('DELETE', `/api/services/${service}`).catch((err: Error) => problems.push(err.message));
      }
      await stopChild(child);
      const left = await leftovers(dataDir);
      for (const pid of left) process.kill(pid, 'SIGKILL');
      if (left.length > 0) problems.push(`killed ${left.length} instance/proxy processes the delete left running`);
      await rm(dataDir, { recursive: true, force: true });
      if (problems.length > 0) process.stderr.write(`bench cleanup: ${problems.join('; ')}\n`);
    },
  };
}
