/**
 * Running one user command: argv without a shell, in its own process group, output captured
 * line by line into the release log, bounded by a timeout that kills the whole group (whatever
 * the command forked too). Rejects with a CommandFailed naming the command and what it printed.
 */
import { scrubSecrets } from '../../secrets.ts';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { DriverContext } from '../../types.ts';

export interface CommandRun {
  /** "deploy", "undeploy", "instances": names the command in logs and errors. */
  name: string;
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal?: AbortSignal;
  log: DriverContext['log'];
  /** stdout is data (the instances list), not log lines. */
  stdoutIsData?: boolean;
}

/** Grace between SIGTERM and SIGKILL of a timed-out command's group. */
const KILL_GRACE_MS = 2000;
/** After the command exits, how long its output pipes may stay open (a forked daemon holding them). */
const DRAIN_MS = 200;
const TAIL_LINES = 10;
const MAX_STDOUT = 1 << 20;

export class CommandFailed extends Error {
  constructor(run: CommandRun, what: string, tail: string[]) {
    const printed = tail.length > 0 ? `; last output: ${scrubSecrets(tail.join(' | '))}` : '';
    super(`${run.name} command ${JSON.stringify(run.argv)} ${what}${printed}`);
    this.name = 'CommandFailed';
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** Resolves the command's stdout when it exits 0. */
export function runCommand(run: CommandRun): Promise<string> {
  return new Promise((resolve, reject) => {
    const [program = '', ...args] = run.argv;
    const child = spawn(program, args, {
      cwd: run.cwd,
      env: run.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    let stdout = '';
    const onLine = (stream: 'stdout' | 'stderr') => (line: string) => {
      if (stream === 'stdout' && run.stdoutIsData) {
        if (stdout.length < MAX_STDOUT) stdout += `${line}\n`;
        return;
      }
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      run.log(stream === 'stderr' ? 'warn' : 'info', `${run.name}: ${line}`, { command: run.name, stream });
    };
    const streams = [child.stdout, child.stderr];
    createInterface({ input: child.stdout }).on('line', onLine('stdout'));
    createInterface({ input: child.stderr }).on('line', onLine('stderr'));
    const ended = Promise.all(streams.map((s) => new Promise((done) => s.once('close', done))));

    let stopReason: string | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (reason: string) => {
      if (stopReason !== null || child.pid === undefined) return;
      stopReason = reason;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    };
    const timer = setTimeout(
      () => stop(`did not finish within ${run.timeoutMs}ms; its process group was killed`),
      run.timeoutMs,
    );
    const onAbort = () => stop('was aborted; its process group was killed');
    run.signal?.addEventListener('abort', onAbort, { once: true });
    if (run.signal?.aborted) onAbort();

    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', onAbort);
      reject(new CommandFailed(run, `could not be started in ${run.cwd}: ${err.code ?? err.message}`, []));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', onAbort);
      // Its group is killed for good once the leader is gone, so nothing it forked outlives a timeout.
      if (stopReason !== null && child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      clearTimeout(killTimer);
      const drained = new Promise((done) => setTimeout(done, DRAIN_MS).unref());
      void Promise.race([ended, drained]).then(() => {
        for (const s of streams) s.destroy();
        if (stopReason !== null) reject(new CommandFailed(run, stopReason, tail));
        else if (code !== 0)
          reject(new CommandFailed(run, `exited with ${code === null ? `signal ${signal}` : `code ${code}`}`, tail));
        else resolve(stdout);
      });
    });
  });
}
