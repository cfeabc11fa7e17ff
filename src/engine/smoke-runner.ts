import { spawn } from 'node:child_process';
import type { SmokeCheck } from '../core/release/strategy.ts';
import { childEnv, scrubSecrets } from '../drivers/secrets.ts';
import { messageOf } from './retry.ts';

export interface SmokeOutcome {
  ok: boolean;
  detail: string;
  durationMs: number;
}

export interface SmokeContext {
  /** Relative command paths resolve against the spec's folder. */
  cwd: string;
  /** SLUICE_SERVICE, SLUICE_VERSION, SLUICE_REVISION, SLUICE_CANARY_URL for the command. */
  env: Record<string, string>;
  /** Aborted when the controller stops: the command's process group is killed. */
  signal: AbortSignal;
}

const OUTPUT_KEPT = 2_000;

/**
 * Run one smoke check to its end: a command (pass = exit 0; its process group is killed at the
 * timeout) or an HTTP GET (pass = the expected status). Never rejects: every failure is an
 * outcome with a detail a person can act on.
 */
export async function runSmoke(check: SmokeCheck, timeoutMs: number, ctx: SmokeContext): Promise<SmokeOutcome> {
  const started = Date.now();
  const done = (ok: boolean, detail: string): SmokeOutcome => ({ ok, detail, durationMs: Date.now() - started });
  if ('http' in check) {
    const { url, expectStatus } = check.http;
    try {
      const res = await fetch(url, { signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), ctx.signal]) });
      await res.body?.cancel();
      return done(res.status === expectStatus, `GET ${url} answered ${res.status} (expected ${expectStatus})`);
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      return done(
        false,
        `GET ${url} ${timedOut ? `did not answer within ${timeoutMs} ms` : `failed: ${messageOf(err)}`}`,
      );
    }
  }
  return runCommand(check.command, timeoutMs, ctx, done);
}

function runCommand(
  argv: string[],
  timeoutMs: number,
  ctx: SmokeContext,
  done: (ok: boolean, detail: string) => SmokeOutcome,
): Promise<SmokeOutcome> {
  const [file, ...args] = argv as [string, ...string[]];
  return new Promise((resolve) => {
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-OUTPUT_KEPT));
    // Its own process group, so a timeout kills whatever the command started too.
    const child = spawn(file, args, {
      cwd: ctx.cwd,
      env: childEnv(ctx.env),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    ctx.signal.addEventListener('abort', kill, { once: true });
    const tail = () => (output.trim() === '' ? '' : `; output: ${scrubSecrets(output.trim())}`);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve(done(false, `could not run ${argv.join(' ')}: ${messageOf(err)}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', kill);
      if (timedOut)
        resolve(done(false, `${argv.join(' ')} did not finish within ${timeoutMs} ms and was killed${tail()}`));
      else resolve(done(code === 0, `${argv.join(' ')} exited ${code ?? `on ${signal}`}${tail()}`));
    });
  });
}
