/**
 * Spawns one run of an instance: detached (its own process group, not kept alive by us) with
 * stdout and stderr appended to its log file by descriptor, so it outlives the controller and a
 * dead controller never breaks its output.
 */
import { spawn } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';
import { openLog } from './instance-files.ts';

export interface ExitStatus {
  code: number | null;
  signal: string | null;
  /** Set when the process could not be started at all (ENOENT, EACCES …). */
  error: NodeJS.ErrnoException | null;
}

export interface SpawnedInstance {
  /** Undefined when the spawn failed. */
  pid: number | undefined;
  /** Resolves once, when the process exits or fails to start. */
  exited: Promise<ExitStatus>;
  /** Size of the log before this run wrote to it, to quote only this run's output. */
  logOffset: number;
}

export interface SpawnRequest {
  command: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
}

export function spawnInstance(request: SpawnRequest): SpawnedInstance {
  const { fd, offset } = openLog(request.logFile);
  try {
    const marker = `--- sluice ${new Date().toISOString()}: starting ${JSON.stringify(request.command)} PORT=${request.env.PORT}\n`;
    const logOffset = offset + writeSync(fd, marker);
    const [program, ...args] = request.command;
    let child;
    try {
      child = spawn(program ?? '', args, {
        cwd: request.cwd,
        env: request.env,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } catch (err) {
      const error = err as NodeJS.ErrnoException;
      return { pid: undefined, exited: Promise.resolve({ code: null, signal: null, error }), logOffset };
    }
    const exited = new Promise<ExitStatus>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal, error: null }));
      // After a successful spawn 'error' only reports a failed kill(), which we never call.
      child.on('error', (error) => {
        if (child.pid === undefined) resolve({ code: null, signal: null, error });
      });
    });
    child.unref();
    return { pid: child.pid, exited, logOffset };
  } finally {
    // The child holds its own copy of the descriptor.
    closeSync(fd);
  }
}
