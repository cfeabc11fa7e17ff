import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SluiceError } from '../errors.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One server per data dir: two controllers on one log would fight over the same releases. A lock
 * left by a server that died (SIGKILL) is taken over.
 */
export class DataDirLock {
  readonly #path: string;

  private constructor(path: string) {
    this.#path = path;
  }

  /** `replica`: replicas on a shared store may share a data dir on one machine, one lock each. */
  static acquire(dataDir: string, replica?: string): DataDirLock {
    const path = join(dataDir, replica === undefined ? 'server.json' : `server-${replica}.json`);
    if (existsSync(path)) {
      try {
        const held = JSON.parse(readFileSync(path, 'utf8')) as { pid: number; url?: string };
        if (held.pid !== process.pid && alive(held.pid)) {
          throw new SluiceError(
            'CONFLICT',
            `another sluice server (pid ${held.pid}${held.url ? `, ${held.url}` : ''}) uses the data dir ${dataDir}; stop it or choose another --data-dir`,
          );
        }
      } catch (err) {
        if (err instanceof SluiceError) throw err;
        // An unreadable lock file is a leftover: take it over.
      }
    }
    writeFileSync(path, JSON.stringify({ pid: process.pid }));
    return new DataDirLock(path);
  }

  record(url: string): void {
    writeFileSync(this.#path, JSON.stringify({ pid: process.pid, url }));
  }

  release(): void {
    rmSync(this.#path, { force: true });
  }
}
