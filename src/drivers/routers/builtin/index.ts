/**
 * The built-in router: drives this service's own proxy process (src/proxy/) through its admin
 * API, authenticated with the secret in `<serviceDir>/router/admin.secret`. The proxy lives in
 * `<serviceDir>/router/` and outlives the controller; `apply` attaches to a running proxy or
 * starts one, and `close` leaves it serving. Once the engine listens (`onSignal`), the router
 * supervises the proxy: a dead one is started again from its last table (routes.json).
 * With `proxy` in the config the router drives that running proxy instead (attached-router.ts).
 */
import { join } from 'node:path';
import type { DriverContext, DriverFactory } from '../../types.ts';
import type { RouteTable, Router, RouterSignal } from '../types.ts';
import { adminCall, replyError } from './admin-client.ts';
import { readAdminSecret } from './admin-secret.ts';
import { forgetAttached } from './attached-file.ts';
import { AttachedRouter } from './attached-router.ts';
import { type BuiltinRouterConfig, builtinRouterConfig } from './config.ts';
import { ProxyFaults } from './proxy-faults.ts';
import { servesAddress } from './serves-address.ts';
import {
  type ProxyInfo,
  endingOf,
  findRunningProxy,
  isAlive,
  isOwnProxy,
  logTail,
  readProxyInfo,
  spawnProxy,
  stopProxy,
} from './proxy-process.ts';
import { SerialQueue } from '../../../core/serial-queue.ts';

/** How often a supervised proxy's pid is checked: a death is seen within this. */
const SUPERVISE_MS = 100;
/** Waits between attempts to start a dead proxy again, the last one repeated. */
const RESTART_BACKOFF_MS = [250, 500, 1000, 2000, 5000];

export type { BuiltinRouterConfig };

class BuiltinRouter implements Router {
  private readonly dir: string;
  private proxy: ProxyInfo | null = null;
  /** apply/shutdown run one at a time, so one router never starts two proxies. */
  private readonly queue = new SerialQueue();
  private readonly config: BuiltinRouterConfig;
  private readonly ctx: DriverContext;
  private readonly listeners: ((signal: RouterSignal) => void)[] = [];
  private supervisor: NodeJS.Timeout | undefined;
  /** A supervision check is queued or running. */
  private checking = false;
  /** The proxy that died and is not serving again yet, and since when. */
  private lost: { info: ProxyInfo; at: number } | null = null;
  private restartFailures = 0;
  private retryAt = 0;
  private stopped = false;
  readonly faults: ProxyFaults;

  constructor(config: BuiltinRouterConfig, ctx: DriverContext) {
    this.config = config;
    this.ctx = ctx;
    this.dir = join(ctx.serviceDir, 'router');
    // This router starts its own proxy: the metrics provider and the flag guard look for it, not an attached one.
    forgetAttached(this.dir);
    this.faults = new ProxyFaults(async (method, path, body) => {
      const info = await this.current();
      return info === null ? null : adminCall(info.adminUrl, await readAdminSecret(this.dir), method, path, body);
    });
  }

  private fail(what: string, err: unknown): Error {
    return new Error(`builtin router for service "${this.ctx.service}": ${what}: ${(err as Error).message ?? err}`);
  }

  /** Attach to the service's proxy, or start one (replacing one that serves another address). */
  private async ensureProxy(): Promise<ProxyInfo> {
    const running = await findRunningProxy(this.dir);
    const workers = this.config.workers ?? 1;
    if (running !== null && servesAddress(running.listen, this.config.listen) && running.workers === workers) {
      this.ctx.log('info', 'attached to the built-in proxy', { pid: running.pid, listen: running.listen });
      return running;
    }
    if (running !== null) {
      this.ctx.log('info', 'restarting the built-in proxy on a new address or worker count', {
        from: running.listen,
        to: this.config.listen,
        workers: { from: running.workers, to: workers },
      });
      await stopProxy(this.dir, running.pid);
    }
    const started = await spawnProxy(this.dir, this.config.listen, this.config.upstreamTimeout, this.config.workers);
    this.ctx.log('info', 'started the built-in proxy', {
      pid: started.pid,
      listen: started.listen,
      adminUrl: started.adminUrl,
    });
    return started;
  }

  private emit(signal: RouterSignal): void {
    for (const listener of this.listeners) listener(signal);
  }

  onSignal(listener: (signal: RouterSignal) => void): void {
    this.listeners.push(listener);
    if (this.supervisor !== undefined || this.stopped) return;
    this.supervisor = setInterval(() => this.check(), SUPERVISE_MS);
    this.supervisor.unref();
  }

  private stopSupervising(): void {
    this.stopped = true;
    clearInterval(this.supervisor);
  }

  /** Every SUPERVISE_MS: a signal 0 to the proxy's pid; a dead proxy is revived in the queue. */
  private check(): void {
    if (this.checking || this.stopped) return;
    if (this.lost === null && (this.proxy === null || isAlive(this.proxy.pid))) return;
    if (Date.now() < this.retryAt) return;
    this.checking = true;
    void this.queue
      .run(() => this.revive())
      .catch(() => undefined)
      .finally(() => (this.checking = false));
  }

  /**
   * Runs in the queue (no apply or shutdown meanwhile): report the death of the proxy we knew,
   * then find it again (another controller may have started it) or start it from routes.json.
   */
  private async revive(): Promise<void> {
    if (this.stopped) return;
    if (this.lost === null) {
      const dead = this.proxy;
      if (dead === null || isAlive(dead.pid)) return;
      this.proxy = null;
      this.lost = { info: dead, at: Date.now() };
      // A zombie counts as dead before this process has reaped it and heard how it ended: a moment for that.
      let how = endingOf(dead.pid);
      // Our own child: its exit event comes once the loop gets to it (later on a loaded machine); up to 0.25 s.
      for (let i = 0; how === null && isOwnProxy(dead.pid) && i < 50; i++) {
        await new Promise((r) => setTimeout(r, 5));
        how = endingOf(dead.pid);
      }
      how ??= 'is gone';
      this.ctx.log('error', 'the built-in proxy died; starting it again from its last table', { pid: dead.pid, how });
      this.emit({
        kind: 'died',
        pid: dead.pid,
        detail: `the built-in proxy (pid ${dead.pid}, serving ${dead.listen}) ${how}`,
        at: this.lost.at,
      });
    }
    try {
      this.proxy = await this.ensureProxy();
    } catch (err) {
      const wait = RESTART_BACKOFF_MS[Math.min(this.restartFailures, RESTART_BACKOFF_MS.length - 1)]!;
      this.restartFailures++;
      this.retryAt = Date.now() + wait;
      this.emit({
        kind: 'restartFailed',
        error: `${(err as Error).message} (next attempt in ${wait} ms)`,
        at: Date.now(),
      });
      return;
    }
    const downMs = Date.now() - this.lost.at;
    this.lost = null;
    this.restartFailures = 0;
    this.retryAt = 0;
    this.emit({ kind: 'restarted', pid: this.proxy.pid, downMs, at: Date.now() });
  }

  apply(table: RouteTable): Promise<void> {
    const stickiness = table.stickiness ?? this.config.stickiness;
    const body: RouteTable = stickiness === undefined ? table : { ...table, stickiness };
    return this.queue.run(async () => {
      let reply;
      try {
        // A supervised proxy found dead here is reported and revived like the supervisor does.
        if (this.supervisor !== undefined && (this.lost !== null || (this.proxy !== null && !isAlive(this.proxy.pid))))
          await this.revive();
        this.proxy ??= await this.ensureProxy();
        const secret = await readAdminSecret(this.dir);
        try {
          reply = await adminCall(this.proxy.adminUrl, secret, 'PUT', '/routes', body);
        } catch {
          // The proxy we knew is gone (killed, restarted): find or start it again, once.
          this.proxy = await this.ensureProxy();
          reply = await adminCall(this.proxy.adminUrl, secret, 'PUT', '/routes', body);
        }
      } catch (err) {
        this.proxy = null;
        throw this.fail(`could not apply the route table`, err);
      }
      if (reply.status !== 200) {
        throw this.fail('the proxy refused the route table', new Error(replyError(reply)));
      }
    });
  }

  /** The proxy that proxy.json names, if that process is alive (no start, no health check). */
  private async current(): Promise<ProxyInfo | null> {
    const info = this.proxy ?? (await readProxyInfo(this.dir));
    return info !== null && isAlive(info.pid) ? info : null;
  }

  async read(): Promise<RouteTable | null> {
    const info = await this.current();
    if (info === null) return null;
    try {
      const reply = await adminCall(info.adminUrl, await readAdminSecret(this.dir), 'GET', '/routes');
      if (reply.status === 404) return null;
      if (reply.status !== 200) throw new Error(replyError(reply));
      return reply.body as RouteTable;
    } catch (err) {
      throw this.fail('could not read the route table', err);
    }
  }

  async inflight(): Promise<Record<string, number> | null> {
    const info = await this.current();
    if (info === null) return {};
    try {
      const reply = await adminCall(info.adminUrl, await readAdminSecret(this.dir), 'GET', '/metrics?window=1000');
      if (reply.status !== 200) throw new Error(replyError(reply));
      const backends = (reply.body as { backends: Record<string, { inflight: number }> }).backends;
      return Object.fromEntries(Object.entries(backends).map(([key, b]) => [key, b.inflight]));
    } catch (err) {
      throw this.fail('could not read in-flight requests', err);
    }
  }

  async close(): Promise<void> {
    // Nothing is held open: the proxy keeps serving and the next router instance re-attaches.
    this.stopSupervising();
    this.proxy = null;
  }

  shutdown(): Promise<void> {
    this.stopSupervising();
    return this.queue.run(async () => {
      const info = this.proxy ?? (await readProxyInfo(this.dir));
      this.proxy = null;
      if (info === null) return;
      try {
        await stopProxy(this.dir, info.pid);
      } catch (err) {
        throw this.fail(`could not stop the proxy (pid ${info.pid}); log:\n${await logTail(this.dir)}`, err);
      }
    });
  }
}

export const builtinRouter: DriverFactory<Router, BuiltinRouterConfig> = {
  config: builtinRouterConfig,
  create: (config, ctx) =>
    config.proxy === undefined ? new BuiltinRouter(config, ctx) : new AttachedRouter(config, config.proxy, ctx),
};
