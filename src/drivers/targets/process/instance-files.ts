/**
 * The files an instance leaves under `<serviceDir>/target/<key>/`: its log (`<id>.log`, appended
 * by every run) and its state (`<id>.json`: the current pid and port). The state file is what lets
 * a restarted controller find an instance that a supervisor restarted under a new pid.
 */
import {
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  closeSync,
  readSync,
  fstatSync,
  statSync,
  rmSync,
  writeFileSync,
  renameSync,
} from 'node:fs';
import path from 'node:path';

export interface InstanceState {
  pid: number;
  pgid: number;
  port: number;
  startedAt: number;
}

export function revisionDir(serviceDir: string, key: string): string {
  return path.join(serviceDir, 'target', key);
}

export function logPath(serviceDir: string, key: string, instanceId: string): string {
  return path.join(revisionDir(serviceDir, key), `${instanceId}.log`);
}

function statePath(serviceDir: string, key: string, instanceId: string): string {
  return path.join(revisionDir(serviceDir, key), `${instanceId}.json`);
}

/** Opens the log for appending (creating its folder) and returns the fd and the size before this run. */
export function openLog(file: string): { fd: number; offset: number } {
  mkdirSync(path.dirname(file), { recursive: true });
  const fd = openSync(file, 'a');
  return { fd, offset: fstatSync(fd).size };
}

/** The last `lines` lines written at or after `offset` (bounded read: logs can be large). */
export function tailLog(file: string, offset = 0, lines = 20): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = statSync(file).size;
    const start = Math.max(offset, size - 16 * 1024);
    const buffer = Buffer.alloc(Math.max(0, size - start));
    readSync(fd, buffer, 0, buffer.length, start);
    return buffer
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '')
      .slice(-lines)
      .join('\n');
  } finally {
    closeSync(fd);
  }
}

export function writeState(serviceDir: string, key: string, instanceId: string, state: InstanceState): void {
  const file = statePath(serviceDir, key, instanceId);
  mkdirSync(path.dirname(file), { recursive: true });
  // Write-then-rename so a controller dying mid-write never leaves half a file.
  writeFileSync(`${file}.tmp`, JSON.stringify(state));
  renameSync(`${file}.tmp`, file);
}

export function readState(serviceDir: string, key: string, instanceId: string): InstanceState | null {
  try {
    const state = JSON.parse(readFileSync(statePath(serviceDir, key, instanceId), 'utf8')) as Partial<InstanceState>;
    const { pid, pgid, port, startedAt } = state;
    if (typeof pid !== 'number' || typeof pgid !== 'number' || typeof port !== 'number') return null;
    return { pid, pgid, port, startedAt: typeof startedAt === 'number' ? startedAt : 0 };
  } catch {
    return null;
  }
}

export function removeState(serviceDir: string, key: string, instanceId: string): void {
  rmSync(statePath(serviceDir, key, instanceId), { force: true });
}

/** Ids of the instances of a revision that left a state file (e.g. a start cut short by a controller crash). */
export function recordedInstances(serviceDir: string, key: string): string[] {
  try {
    return readdirSync(revisionDir(serviceDir, key))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length));
  } catch {
    return [];
  }
}
