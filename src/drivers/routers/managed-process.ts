/**
 * Starting and stopping a proxy binary (haproxy, nginx) that must outlive the controller: it runs
 * detached in its own process group with its output appended to a log file, and is found again
 * through the pid file it writes. Shared by the routers that manage their own proxy.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The process runs (a zombie, dead but not yet reaped by its parent, does not: Linux /proc). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // "pid (comm) S …": the state is the first field after the command name's closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc here: the signal said it exists
  }
}

/** The pid in a pid file, or null when the file is missing or holds no number. */
export async function readPid(path: string): Promise<number | null> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

export async function logTail(path: string, lines = 8): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export interface Spawned {
  pid: number;
  /** Why the process ended, once it has (null while it runs). */
  exited(): string | null;
}

/** Runs `binary args` detached, stdout and stderr appended to `logPath`; never waited for. */
export async function spawnDetached(binary: string, args: string[], logPath: string): Promise<Spawned> {
  const log = await open(logPath, 'a');
  let exited: string | null = null;
  let child;
  try {
    child = spawn(binary, args, { detached: true, stdio: ['ignore', log.fd, log.fd] });
  } finally {
    await log.close();
  }
  child.on('error', (err) => (exited = err.message));
  child.on('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`));
  child.unref();
  // A missing binary reports ENOENT on the next tick, before any pid check could mean anything.
  await sleep(0);
  if (child.pid === undefined) throw new Error(`cannot run ${binary}: ${exited ?? 'no pid'}`);
  return { pid: child.pid, exited: () => exited };
}

/** Polls `check` every `everyMs` until it returns a value, or gives up at the deadline with null. */
export async function pollUntil<T>(check: () => Promise<T | null>, timeoutMs: number, everyMs = 20): Promise<T | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() >= deadline) return null;
    await sleep(everyMs);
  }
}

/** SIGTERM the process (its group when it leads one), SIGKILL after `graceMs`, wait until it is gone. */
export async function stopProcess(pid: number, graceMs = 5000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // Already gone.
      }
    }
  };
  if (!isAlive(pid)) return;
  signal('SIGTERM');
  if ((await pollUntil(async () => (isAlive(pid) ? null : true), graceMs)) !== null) return;
  signal('SIGKILL');
  await pollUntil(async () => (isAlive(pid) ? null : true), 2000);
}

/**
 * Pids of the children of `parent` (Linux /proc), e.g. the workers of an nginx master. Read
 * synchronously: one small file, and a busy event loop must not stretch a reload.
 */
export function childrenOf(parent: number): number[] {
  try {
    return readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Starts a proxy detached and waits until `ready` says it serves the config it was given. If it
 * exits or stays silent, it is stopped and the error quotes the end of its log.
 */
export async function startDetached(o: {
  name: string;
  binary: string;
  args: string[];
  logFile: string;
  /** Where the proxy writes its errors, when not to `logFile`. */
  errorLog?: string;
  /** What it should answer on, for the error message. */
  answersOn: string;
  ready: () => Promise<boolean>;
  timeoutMs: number;
}): Promise<number> {
  const child = await spawnDetached(o.binary, o.args, o.logFile);
  const up = await pollUntil(
    async () => (child.exited() !== null ? false : (await o.ready()) ? true : null),
    o.timeoutMs,
  );
  if (up !== true) {
    if (child.exited() === null) await stopProcess(child.pid, 1000);
    const why = child.exited() ?? `did not answer on ${o.answersOn} within ${o.timeoutMs} ms`;
    const log = o.errorLog ?? o.logFile;
    throw new Error(`${o.name} ${why}; ${log} ends with:\n${await logTail(log)}`);
  }
  return child.pid;
}
