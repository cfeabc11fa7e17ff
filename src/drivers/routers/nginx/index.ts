/**
 * The nginx router (managed mode): a change of weights only is written to the weight table nginx
 * reads per request (weight-table.ts): no reload, so no keep-alive connection is reset. Any other
 * change (backends, endpoints, routes, settings) becomes an nginx.conf that must pass `nginx -t`
 * before it replaces the last good one, then a graceful reload, confirmed by the new workers
 * answering the config's generation. nginx runs detached and keeps serving when the controller
 * dies; a new router re-attaches through the pid file. Re-applying the table nginx already
 * serves changes nothing.
 */
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DriverContext, DriverFactory } from '../../types.ts';
import type { RouteTable, Router } from '../types.ts';
import { heartbeatUrl, upstreamsOf, writeLogStream } from '../../access-log.ts';
import { SAFE_COOKIE, SAFE_HEADER, SAFE_VALUE, logSource, renderNginxConfig } from './config-file.ts';
import { type NginxRouterConfig, nginxRouterConfig } from './config.ts';
import { ManagedNginx } from './managed-nginx.ts';
import { SerialQueue } from '../../../core/serial-queue.ts';
import {
  BUCKETS,
  generationDir,
  pruneWeights,
  readWeights,
  removeWeightTable,
  weightTableRoot,
  writeWeights,
} from './weight-table.ts';

export type { NginxRouterConfig };

const DEFAULT_UPSTREAM_TIMEOUT_MS = 60_000;

interface NginxState {
  generation: number;
  table: RouteTable;
  /** The access-log address the config was written with (absent: none). */
  accessLog?: string;
  /** What the config was written from (settings, backends' keys and endpoints, routes): a weight-only change keeps it. */
  shape?: string;
}

/** Throws, naming the field, when nginx could not serve the table as written. */
function checkTable(table: RouteTable): void {
  const sum = table.backends.reduce((n, b) => n + b.weight, 0);
  if (table.backends.length === 0 || Math.abs(sum - 100) > 0.001)
    throw new Error(`backend weights sum to ${sum}; they must sum to 100`);
  table.backends.forEach((b, i) => {
    if (b.weight > 0 && b.endpoints.length === 0)
      throw new Error(`backends[${i}] ("${b.key}") has weight ${b.weight} but no endpoints`);
  });
  (table.routes ?? []).forEach((r, i) => {
    const backend = table.backends.find((b) => b.key === r.key);
    if (backend === undefined || backend.endpoints.length === 0)
      throw new Error(`routes[${i}].key "${r.key}" names no backend with endpoints`);
    if ('header' in r.match && !SAFE_HEADER.test(r.match.header))
      throw new Error(`routes[${i}].match.header must use letters, digits and - only`);
    if ('cookie' in r.match && !SAFE_COOKIE.test(r.match.cookie))
      throw new Error(`routes[${i}].match.cookie must use letters, digits and _ only (an nginx variable name)`);
    if (!SAFE_VALUE.test(r.match.value))
      throw new Error(
        `routes[${i}].match.value "${r.match.value}" must use letters, digits and _ . ~ : @ + = / ! * - only`,
      );
  });
}

class NginxRouter implements Router {
  private readonly config: NginxRouterConfig;
  private readonly ctx: DriverContext;
  private readonly dir: string;
  private readonly nginx: ManagedNginx;
  /** Where the weight table nginx reads per request lives (weight-table.ts). */
  private readonly weights: string;
  private readonly queue = new SerialQueue();

  constructor(config: NginxRouterConfig, ctx: DriverContext) {
    this.config = config;
    this.ctx = ctx;
    this.dir = join(ctx.serviceDir, 'router', 'nginx');
    this.nginx = new ManagedNginx(this.dir, config.binary);
    this.weights = weightTableRoot(this.dir);
  }

  private get stateFile(): string {
    return join(this.dir, 'state.json');
  }

  private async readState(): Promise<NginxState | null> {
    try {
      return JSON.parse(await readFile(this.stateFile, 'utf8')) as NginxState;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`cannot read ${this.stateFile}: ${(err as Error).message}`);
    }
  }

  private async writeState(state: NginxState): Promise<void> {
    await writeFile(`${this.stateFile}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
    await rename(`${this.stateFile}.tmp`, this.stateFile);
  }

  private fail(what: string, err: unknown): Error {
    return new Error(`nginx router for service "${this.ctx.service}": ${what}: ${(err as Error).message ?? err}`);
  }

  apply(table: RouteTable): Promise<void> {
    return this.queue.run(async () => {
      try {
        checkTable(table);
        await mkdir(this.dir, { recursive: true });
        const state = await this.readState();
        const pid = await this.nginx.running();
        const accessLog = this.config.accessLog;
        if (accessLog !== undefined) await this.describeLogStream(table);
        const settings = {
          listen: this.config.listen,
          stickiness: table.stickiness ?? this.config.stickiness,
          upstreamTimeoutMs: this.config.upstreamTimeout ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
          workers: this.config.workers,
          accessLog,
        };
        const shape = JSON.stringify({
          settings,
          backends: table.backends.map((b) => ({ key: b.key, endpoints: b.endpoints })),
          routes: table.routes ?? [],
        });
        if (
          pid !== null &&
          state !== null &&
          state.shape === shape &&
          (await this.nginx.generation()) === state.generation
        ) {
          // Only weights changed: the weight table on disk, read per request; no reload.
          await writeWeights(this.weights, state.generation, table);
          await this.writeState({ ...state, table });
          return;
        }
        const generation = (state?.generation ?? 0) + 1;
        // The new generation's weights are on disk before its config can be served.
        await writeWeights(this.weights, generation, table);
        const text = renderNginxConfig(
          table,
          settings,
          this.nginx.paths,
          generation,
          generationDir(this.weights, generation),
        );
        const conf = join(this.dir, 'nginx.conf');
        const good = join(this.dir, 'nginx.conf.good');
        await copyFile(conf, good).catch(() => undefined);
        await this.nginx.install(text);
        try {
          if (pid === null) {
            const started = await this.nginx.start(generation);
            this.ctx.log('info', 'started nginx', { pid: started, listen: this.config.listen, generation });
          } else {
            const settled = await this.nginx.reload(pid, generation);
            if (!settled)
              this.ctx.log('warn', 'old nginx workers are still finishing long requests with the previous table', {
                generation,
              });
          }
        } catch (err) {
          // Checked but not loadable (e.g. the address is taken): put the last good config back.
          await rename(good, conf).catch(() => undefined);
          throw err;
        }
        await this.writeState({ generation, table, shape, ...(accessLog !== undefined && { accessLog }) });
        // The old workers are gone (reload waits for them): older weight tables are read by no one.
        await pruneWeights(this.weights, generation);
      } catch (err) {
        throw this.fail('could not apply the route table', err);
      }
    });
  }

  /**
   * Tells the access-log provider where this nginx's lines come from and whose the upstreams are
   * (before the reload: the new table's upstreams answer as soon as it is in force).
   */
  private async describeLogStream(table: RouteTable): Promise<void> {
    await writeLogStream(this.ctx.serviceDir, {
      sources: [{ source: logSource(this.config.listen), heartbeatUrl: heartbeatUrl(this.config.listen) }],
      upstreams: upstreamsOf(table.backends),
    });
  }

  async read(): Promise<RouteTable | null> {
    try {
      const state = await this.readState();
      if (state === null || (await this.nginx.running()) === null) return null;
      const served = await this.nginx.generation();
      if (served !== state.generation)
        throw new Error(`nginx serves config generation ${served}, the last applied is ${state.generation}`);
      // The weights nginx reads per request, from the weight table on disk.
      const weights = await readWeights(this.weights, state.generation, state.table);
      // Within one bucket's rounding (0.1%) the table's own weight is what is served.
      const inForce = (w: number, asked: number) => (Math.abs(w - asked) <= 100 / BUCKETS / 2 + 1e-9 ? asked : w);
      return {
        ...state.table,
        backends: state.table.backends.map((b, i) => ({ ...b, weight: inForce(weights[i] ?? 0, b.weight) })),
      };
    } catch (err) {
      throw this.fail('could not read the route table', err);
    }
  }

  /** Open-source nginx has no per-upstream in-flight counts. */
  async inflight(): Promise<Record<string, number> | null> {
    return null;
  }

  async close(): Promise<void> {
    // Nothing is held open: nginx keeps serving and the next router instance re-attaches.
  }

  shutdown(): Promise<void> {
    return this.queue.run(async () => {
      try {
        await this.nginx.stop();
        await rm(this.stateFile, { force: true });
        await removeWeightTable(this.weights);
      } catch (err) {
        throw this.fail('could not stop nginx', err);
      }
    });
  }
}

export const nginxRouter: DriverFactory<Router, NginxRouterConfig> = {
  config: nginxRouterConfig,
  create: (config, ctx) => new NginxRouter(config, ctx),
};
