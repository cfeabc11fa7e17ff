/**
 * The `sluice server` child process the demo runs against: started on a free loopback port,
 * checked through /healthz, stopped with SIGTERM (SIGKILL past a bound). It runs in its own
 * process group so a Ctrl-C in the terminal reaches only the demo, which then deletes the service
 * through the API before stopping the server; a server killed first would leave the service's
 * detached instances and proxy running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freeListenPort } from '../../src/drivers/free-port.ts';

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_LINES_KEPT = 40;

/**
 * `count` distinct ports free right now on 127.0.0.1, for listeners (the API, the service's
 * router): below the range the service's instances get their ports from, so none can take one
 * before it is bound.
 */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freeListenPort());
  return [...ports];
}

export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

export class SluiceServer {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #output: string[] = [];
  readonly exited: Promise<ExitStatus>;
  #exit: ExitStatus | null = null;

  private constructor(child: ChildProcess, url: string) {
    this.#child = child;
    this.url = url;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve((this.#exit = { code, signal })));
      child.once('error', (err) => {
        this.#keep(`spawn failed: ${err.message}`);
        if (child.pid === undefined) resolve((this.#exit = { code: null, signal: null }));
      });
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line.trim() !== '') this.#keep(line);
      });
    }
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#exit === null && this.#child.pid !== undefined;
  }

  /** The last lines the server wrote (stdout and stderr), for error messages. */
  outputTail(lines = 12): string {
    return this.#output.slice(-lines).join('\n');
  }

  /** Spawns `node bin/sluice.js server` from the repo root and resolves once /healthz answers. */
  static async start(o: { root: string; dataDir: string; port: number; signal?: AbortSignal }): Promise<SluiceServer> {
    const args = [
      join(o.root, 'bin/sluice.js'),
      'server',
      '--data-dir',
      o.dataDir,
      '--port',
      String(o.port),
      '--host',
      '127.0.0.1',
    ];
    const child = spawn(process.execPath, args, { cwd: o.root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new SluiceServer(child, `http://127.0.0.1:${o.port}`);
    const deadline = Date.now() + START_TIMEOUT_MS;
    try {
      while (Date.now() < deadline && server.running) {
        o.signal?.throwIfAborted();
        if (await server.healthy()) return server;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } catch (err) {
      // Interrupted while starting: the caller never gets the server, so stop it here.
      await server.stop();
      throw err;
    }
    const why = server.running
      ? `did not answer ${server.url}/healthz within ${START_TIMEOUT_MS / 1000} s`
      : `exited (${describe(server.#exit)})`;
    await server.stop();
    throw new Error(`sluice server ${why}; its last output:\n${server.outputTail()}`);
  }

  async healthy(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }

  /** SIGTERM, then SIGKILL if it outlives STOP_TIMEOUT_MS. Resolves with how it exited. */
  async stop(): Promise<ExitStatus> {
    if (!this.running) return this.#exit ?? { code: null, signal: null };
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  #keep(line: string): void {
    this.#output.push(line);
    if (this.#output.length > OUTPUT_LINES_KEPT) this.#output.shift();
  }
}

export function describe(exit: ExitStatus | null): string {
  if (exit === null) return 'still running';
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}
