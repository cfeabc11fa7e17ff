/**
 * Sluice's own nginx for one service, in `<serviceDir>/router/nginx/`: nginx.conf (always the last
 * config that passed `nginx -t`), nginx.pid, error.log, nginx.log, status.sock and temp dirs. The
 * master runs detached, so it keeps serving when the controller dies. A reload is SIGHUP to the
 * master (what `nginx -s reload` sends), confirmed by the status socket answering the new generation.
 */
import { execFile } from 'node:child_process';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { childrenOf, isAlive, logTail, pollUntil, readPid, startDetached, stopProcess } from '../managed-process.ts';
import type { NginxPaths } from './config-file.ts';

const run = promisify(execFile);
const START_TIMEOUT_MS = 5000;
/** How long a reload waits for the old workers to finish their requests and exit. */
const OLD_WORKERS_MS = 5000;

/** The generation the status server answers, or null when nginx does not answer. */
function servedGeneration(socketPath: string): Promise<number | null> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/generation', timeout: 1000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 && /^\d+\n$/.test(body) ? Number(body) : null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

export class ManagedNginx {
  readonly paths: NginxPaths;
  private readonly binary: string;
  private readonly conf: string;
  readonly logFile: string;

  constructor(dir: string, binary: string) {
    this.binary = binary;
    this.paths = {
      dir,
      pid: join(dir, 'nginx.pid'),
      errorLog: join(dir, 'error.log'),
      statusSocket: join(dir, 'status.sock'),
    };
    this.conf = join(dir, 'nginx.conf');
    this.logFile = join(dir, 'nginx.log');
  }

  private args(conf: string): string[] {
    return ['-p', this.paths.dir, '-c', conf, '-e', this.paths.errorLog];
  }

  generation(): Promise<number | null> {
    return servedGeneration(this.paths.statusSocket);
  }

  /** The master's pid when it is alive and its status server answers. */
  async running(): Promise<number | null> {
    const pid = await readPid(this.paths.pid);
    if (pid === null || !isAlive(pid)) return null;
    return (await this.generation()) === null ? null : pid;
  }

  /** Checks `text` with `nginx -t`, then makes it nginx.conf; a config that fails the check is never installed. */
  async install(text: string): Promise<void> {
    await mkdir(join(this.paths.dir, 'tmp'), { recursive: true });
    const next = `${this.conf}.next`;
    await writeFile(next, text);
    try {
      await run(this.binary, ['-t', '-q', ...this.args(next)], { timeout: 10_000 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      await rm(next, { force: true });
      throw new Error(
        `nginx -t rejected the generated config (kept the last good one): ${(e.stderr || e.message).trim()}`,
      );
    }
    await rename(next, this.conf);
  }

  async start(generation: number): Promise<number> {
    await rm(this.paths.pid, { force: true });
    return startDetached({
      name: 'nginx',
      binary: this.binary,
      args: this.args(this.conf),
      logFile: this.logFile,
      errorLog: this.paths.errorLog,
      answersOn: this.paths.statusSocket,
      ready: async () => (await this.generation()) === generation,
      timeoutMs: START_TIMEOUT_MS,
    });
  }

  /**
   * Graceful reload; resolves once new workers answer with `generation` and the old workers have
   * exited (they serve requests on their open keep-alive connections with the old config until
   * then). Returns false when old workers were still finishing long requests at the bound.
   */
  async reload(pid: number, generation: number): Promise<boolean> {
    const old = childrenOf(pid);
    process.kill(pid, 'SIGHUP');
    const done = await pollUntil(
      async () => ((await this.generation()) === generation ? true : null),
      START_TIMEOUT_MS,
      5,
    );
    if (done === null) {
      throw new Error(
        `nginx did not load config generation ${generation} within ${START_TIMEOUT_MS} ms; ${this.paths.errorLog} ends with:\n${await logTail(this.paths.errorLog)}`,
      );
    }
    const gone = await pollUntil(async () => (old.some(isAlive) ? null : true), OLD_WORKERS_MS, 5);
    return gone !== null;
  }

  async stop(): Promise<void> {
    const pid = await readPid(this.paths.pid);
    if (pid !== null) await stopProcess(pid);
    await rm(this.paths.pid, { force: true });
  }
}
