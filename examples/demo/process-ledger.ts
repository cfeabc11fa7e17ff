/**
 * Every process the demo's service ran (instances and the built-in proxy), so the demo can prove
 * at the end that none is left. Pids come from the target.ready events and from the files the
 * server keeps under <dataDir>/services/<name>/ (router/proxy.json, target/<rev>/<id>.json),
 * which also name an instance a supervisor restarted under a new pid.
 */
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServiceEvent } from '../../src/core/events.ts';

export interface TrackedProcess {
  pid: number;
  /** "proxy" or "<version> instance <id>". */
  role: string;
  /** A piece of its command line; a live pid without it is some other process that reused the pid. */
  marker: string;
}

export class ProcessLedger {
  readonly #byPid = new Map<number, TrackedProcess>();
  readonly #serviceDir: string;
  readonly #instanceMarker: string;

  /** `instanceMarker`: a piece of the instances' command line, e.g. "server.ts". */
  constructor(serviceDir: string, instanceMarker: string) {
    this.#serviceDir = serviceDir;
    this.#instanceMarker = instanceMarker;
  }

  get all(): TrackedProcess[] {
    return [...this.#byPid.values()];
  }

  noteEvent(e: ServiceEvent, versionOf: (key: string) => string): void {
    if (e.type !== 'target.ready') return;
    for (const instance of e.instances) {
      const pid = instance.detail?.pid;
      if (typeof pid === 'number')
        this.#note({ pid, role: `${versionOf(e.key)} instance ${instance.id}`, marker: this.#instanceMarker });
    }
  }

  /** Reads the pids the server has on disk now; call it before deleting the service (which removes the files). */
  async noteFiles(versionOf: (key: string) => string): Promise<void> {
    const proxy = await readJson(join(this.#serviceDir, 'router', 'proxy.json'));
    if (typeof proxy?.pid === 'number') this.#note({ pid: proxy.pid, role: 'proxy', marker: 'proxy/main.ts' });
    const targets = join(this.#serviceDir, 'target');
    for (const key of await readdir(targets).catch(() => [])) {
      for (const file of await readdir(join(targets, key)).catch(() => [])) {
        if (!file.endsWith('.json')) continue;
        const state = await readJson(join(targets, key, file));
        if (typeof state?.pid === 'number') {
          this.#note({
            pid: state.pid,
            role: `${versionOf(key)} instance ${file.slice(0, -5)}`,
            marker: this.#instanceMarker,
          });
        }
      }
    }
  }

  /** The tracked processes still running (alive and still running the command they ran). */
  leftovers(): (TrackedProcess & { args: string })[] {
    return this.all.flatMap((p) => {
      const args = commandLine(p.pid);
      return args !== null && args.includes(p.marker) ? [{ ...p, args }] : [];
    });
  }

  /** Last resort when the API could not stop them: SIGKILL each leftover's process group. */
  killLeftovers(): TrackedProcess[] {
    const killed = this.leftovers();
    for (const p of killed) {
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // exited meanwhile
        }
      }
    }
    return killed;
  }

  #note(p: TrackedProcess): void {
    if (!this.#byPid.has(p.pid)) this.#byPid.set(p.pid, p);
  }
}

async function readJson(file: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** The pid's command line, or null when no such process runs (or it is a zombie). */
function commandLine(pid: number): string | null {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  try {
    const args = execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    return args === '' || args.includes('<defunct>') ? null : args;
  } catch {
    // ps exits 1 when the pid is gone
    return null;
  }
}
