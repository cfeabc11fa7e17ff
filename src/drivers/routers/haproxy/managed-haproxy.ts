/**
 * Sluice's own haproxy for one service (managed mode), in `<serviceDir>/router/haproxy/`:
 * haproxy.cfg, route-<i>.map, faults.map, faults.lua, admin.sock, haproxy.pid, haproxy.log. It runs in master-worker
 * mode, detached, so it keeps serving when the controller dies; a config change is checked with
 * `haproxy -c` before it replaces the last good one, and a reload (SIGUSR2 to the master) is
 * confirmed by the worker reporting the new config generation over the runtime API.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isAlive, logTail, pollUntil, readPid, startDetached, stopProcess } from '../managed-process.ts';
import type { HaproxyFiles } from './config-file.ts';
import { FAULT_SCRIPT, FAULT_SCRIPT_FILE } from './fault-script.ts';
import { runtimeCommand } from './runtime-api.ts';

const run = promisify(execFile);
const START_TIMEOUT_MS = 5000;

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

export class ManagedHaproxy {
  readonly files: HaproxyFiles;
  private readonly binary: string;
  private readonly cfg: string;
  private readonly pidFile: string;
  readonly logFile: string;
  #lua: boolean | undefined;

  constructor(dir: string, binary: string) {
    this.binary = binary;
    this.files = {
      dir,
      socket: join(dir, 'admin.sock'),
      mapFile: (i) => join(dir, `route-${i}.map`),
      faultMap: join(dir, 'faults.map'),
      faultScript: join(dir, FAULT_SCRIPT_FILE),
    };
    this.cfg = join(dir, 'haproxy.cfg');
    this.pidFile = join(dir, 'haproxy.pid');
    this.logFile = join(dir, 'haproxy.log');
  }

  /**
   * Whether the binary is built with Lua (`haproxy -vv`), asked once: the config loads the faults'
   * script only then. Synchronous because a drill asks it while it checks its faults (`refusal`).
   */
  get lua(): boolean {
    if (this.#lua === undefined) {
      try {
        this.#lua = /Built with Lua/.test(execFileSync(this.binary, ['-vv'], { encoding: 'utf8', timeout: 10_000 }));
      } catch {
        // No binary to ask: starting it fails later with its own error; assume the common build.
        return true;
      }
    }
    return this.#lua;
  }

  /** The master's pid when it is alive and its worker answers on the admin socket. */
  async running(): Promise<number | null> {
    const pid = await readPid(this.pidFile);
    if (pid === null || !isAlive(pid)) return null;
    return (await this.generation()) === null ? null : pid;
  }

  /** The config generation the worker serves (from `node sluice-gen-N`), or null when it does not answer. */
  async generation(): Promise<number | null> {
    try {
      const m = /^node: sluice-gen-(\d+)$/m.exec(await runtimeCommand(this.files.socket, 'show info', 1000));
      return m ? Number(m[1]) : null;
    } catch {
      return null;
    }
  }

  async writeMaps(maps: ReadonlyArray<ReadonlyMap<string, string>>): Promise<void> {
    await mkdir(this.files.dir, { recursive: true });
    // Faults live in haproxy's memory only (a restarted haproxy injects none): their file stays empty.
    await writeAtomic(this.files.faultMap, '');
    // The config loads the faults' Lua script (haproxy -c loads it too), so it is there before any config.
    await writeAtomic(this.files.faultScript, FAULT_SCRIPT);
    await Promise.all(
      maps.map((entries, i) =>
        writeAtomic(this.files.mapFile(i), [...entries].map(([k, v]) => `${k} ${v}\n`).join('')),
      ),
    );
  }

  /** Checks `text` with `haproxy -c`, then makes it the config; a config that fails the check is never installed. */
  async install(text: string): Promise<void> {
    await mkdir(this.files.dir, { recursive: true });
    const next = `${this.cfg}.next`;
    await writeFile(next, text);
    try {
      await run(this.binary, ['-c', '-q', '-f', next], { timeout: 10_000 });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(
        `haproxy -c rejected the generated config (kept the last good one): ${(e.stderr || e.stdout || e.message).trim()}`,
      );
    }
    await rename(next, this.cfg);
  }

  /** Rewrites the config with the current server states baked in (same shape, already checked). */
  async rewrite(text: string): Promise<void> {
    await writeAtomic(this.cfg, text);
  }

  async start(generation: number): Promise<number> {
    await rm(this.pidFile, { force: true });
    return startDetached({
      name: 'haproxy',
      binary: this.binary,
      args: ['-W', '-f', this.cfg, '-p', this.pidFile],
      logFile: this.logFile,
      answersOn: this.files.socket,
      ready: async () => (await this.generation()) === generation,
      timeoutMs: START_TIMEOUT_MS,
    });
  }

  /** Graceful reload: the old worker finishes its requests, the new one takes the listeners over. */
  async reload(pid: number, generation: number): Promise<void> {
    process.kill(pid, 'SIGUSR2');
    const done = await pollUntil(
      async () => ((await this.generation()) === generation ? true : null),
      START_TIMEOUT_MS,
    );
    if (done === null) {
      throw new Error(
        `haproxy did not load config generation ${generation} within ${START_TIMEOUT_MS} ms; log:\n${await logTail(this.logFile)}`,
      );
    }
  }

  async stop(): Promise<void> {
    const pid = await readPid(this.pidFile);
    if (pid !== null) await stopProcess(pid);
    await rm(this.pidFile, { force: true });
  }
}
