/**
 * Finding, starting and stopping the proxy process of one service. The proxy runs detached (own
 * process group, output to a log file, not waited for) so it outlives the controller: a SIGKILL
 * or Ctrl-C of the controller never drops traffic. proxy.json in the state dir says how to reach it.
 */
import { spawn } from 'node:child_process';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminCall } from './admin-client.ts';
import { adminSecretPath, ensureAdminSecret, readAdminSecret } from './admin-secret.ts';
import { proxyInfoOf, type ProxyInfo } from '../../../proxy/proxy-info.ts';
import { isAlive } from '../managed-process.ts';

export type { ProxyInfo };

const PROXY_MAIN = fileURLToPath(new URL('../../../proxy/main.ts', import.meta.url));
const START_TIMEOUT_MS = 5000;
/** Each worker beyond the first is a Node process to start too (its modules loaded, its state sent). */
const START_PER_WORKER_MS = 7500;
const STOP_TIMEOUT_MS = 12_000;
const POLL_MS = 25;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function readProxyInfo(dir: string): Promise<ProxyInfo | null> {
  try {
    return proxyInfoOf(JSON.parse(await readFile(join(dir, 'proxy.json'), 'utf8')));
  } catch {
    return null;
  }
}

export { isAlive };

/** How proxies this process started ended (pid → "killed by SIGKILL"), for the death's event. */
const endings = new Map<number, string>();
/** Proxies this process started and has not yet heard end: only for them is an ending worth waiting for. */
const children = new Set<number>();

/** Whether this process started `pid` and has not heard it end yet. */
export function isOwnProxy(pid: number): boolean {
  return children.has(pid);
}

/** How the proxy `pid` ended, when this process started it and saw it end. */
export function endingOf(pid: number): string | null {
  const ending = endings.get(pid) ?? null;
  endings.delete(pid);
  return ending;
}

/**
 * The proxy named by proxy.json, if it is alive and its admin API answers as that process to our
 * secret (a proxy started before admin secrets existed answers 401 to nothing: it is replaced).
 */
export async function findRunningProxy(dir: string): Promise<ProxyInfo | null> {
  const info = await readProxyInfo(dir);
  if (info === null || !isAlive(info.pid)) return null;
  try {
    const reply = await adminCall(info.adminUrl, await readAdminSecret(dir), 'GET', '/healthz');
    const body = reply.body as { pid?: unknown; auth?: unknown };
    return reply.status === 200 && body.pid === info.pid && body.auth === 'bearer' ? info : null;
  } catch {
    return null;
  }
}

export async function logTail(dir: string, lines = 8): Promise<string> {
  const text = await readFile(join(dir, 'proxy.log'), 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Starts a proxy and resolves once it has written a fresh proxy.json. */
export async function spawnProxy(
  dir: string,
  listen: string,
  upstreamTimeoutMs?: number,
  workers?: number,
): Promise<ProxyInfo> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await ensureAdminSecret(dir);
  await rm(join(dir, 'proxy.json'), { force: true });
  const log = await open(join(dir, 'proxy.log'), 'a');
  const args = [PROXY_MAIN, '--dir', dir, '--listen', listen, '--admin-secret-file', adminSecretPath(dir)];
  if (upstreamTimeoutMs !== undefined) args.push('--upstream-timeout-ms', String(Math.round(upstreamTimeoutMs)));
  if (workers !== undefined) args.push('--workers', String(workers));
  let exited: string | null = null;
  let child;
  try {
    child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log.fd, log.fd] });
  } finally {
    await log.close();
  }
  child.on('error', (err) => (exited = err.message));
  if (child.pid !== undefined) children.add(child.pid);
  child.on('exit', (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
    if (child.pid === undefined) return;
    children.delete(child.pid);
    endings.set(child.pid, signal !== null ? `killed by ${signal}` : `exited with code ${code}`);
  });
  child.unref();

  const startTimeoutMs = START_TIMEOUT_MS + START_PER_WORKER_MS * ((workers ?? 1) - 1);
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    const info = await readProxyInfo(dir);
    if (info !== null && info.pid === child.pid) return info;
    if (exited !== null) break;
    await sleep(POLL_MS);
  }
  if (exited === null) child.kill('SIGKILL');
  const why = exited ?? `did not write proxy.json within ${startTimeoutMs} ms`;
  throw new Error(`the proxy process ${why}; ${join(dir, 'proxy.log')} ends with:\n${await logTail(dir)}`);
}

/** SIGTERM (the proxy drains in-flight requests), SIGKILL if it outlives the bound, then forget it. */
export async function stopProxy(dir: string, pid: number): Promise<void> {
  if (isAlive(pid)) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (isAlive(pid) && Date.now() < deadline) await sleep(POLL_MS);
    if (isAlive(pid)) {
      process.kill(pid, 'SIGKILL');
      const killDeadline = Date.now() + 2000;
      while (isAlive(pid) && Date.now() < killDeadline) await sleep(POLL_MS);
    }
  }
  const info = await readProxyInfo(dir);
  if (info === null || info.pid === pid) await rm(join(dir, 'proxy.json'), { force: true });
}
