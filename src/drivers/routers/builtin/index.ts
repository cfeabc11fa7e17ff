/**
 * The built-in router: drives this service's own proxy process (src/proxy/) through its admin
 * API. The proxy lives in `<serviceDir>/router/` and outlives the controller; `apply` attaches to
 * a running proxy or starts one, and `close` leaves it serving.
 */
import { join } from 'node:path';
import type { DriverContext, DriverFactory, RouteTable, Router } from '../../types.ts';
import { adminCall, replyError } from './admin-client.ts';
import { type BuiltinRouterConfig, builtinRouterConfig } from './config.ts';
import { type ProxyInfo, findRunningProxy, isAlive, logTail, readProxyInfo, spawnProxy, stopProxy } from './proxy-process.ts';

export type { BuiltinRouterConfig };

/** A running proxy serves the configured address (port 0 in the config accepts any port). */
function servesAddress(info: ProxyInfo, listen: string): boolean {
  if (info.listen === listen) return true;
  return listen.endsWith(':0') && info.listen.slice(0, info.listen.lastIndexOf(':')) === listen.slice(0, -2);
}

class BuiltinRouter implements Router {
  private readonly dir: string;
  private proxy: ProxyInfo | null = null;
  /** apply/shutdown run one at a time, so one router never starts two proxies. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly config: BuiltinRouterConfig;
  private readonly ctx: DriverContext;

  constructor(config: BuiltinRouterConfig, ctx: DriverContext) {
    this.config = config;
    this.ctx = ctx;
    this.dir = join(ctx.serviceDir, 'router');
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private fail(what: string, err: unknown): Error {
    return new Error(`builtin router for service "${this.ctx.service}": ${what}: ${(err as Error).message ?? err}`);
  }

  /** Attach to the service's proxy, or start one (replacing one that serves another address). */
  private async ensureProxy(): Promise<ProxyInfo> {
    const running = await findRunningProxy(this.dir);
    if (running !== null && servesAddress(running, this.config.listen)) {
      this.ctx.log('info', 'attached to the built-in proxy', { pid: running.pid, listen: running.listen });
      return running;
    }
    if (running !== null) {
      this.ctx.log('info', 'restarting the built-in proxy on a new address', { from: running.listen, to: this.config.listen });
      await stopProxy(this.dir, running.pid);
    }
    const started = await spawnProxy(this.dir, this.config.listen, this.config.upstreamTimeout);
    this.ctx.log('info', 'started the built-in proxy', { pid: started.pid, listen: started.listen, adminUrl: started.adminUrl });
    return started;
  }

  apply(table: RouteTable): Promise<void> {
    const stickiness = table.stickiness ?? this.config.stickiness;
    const body: RouteTable = stickiness === undefined ? table : { ...table, stickiness };
    return this.serial(async () => {
      let reply;
      try {
        this.proxy ??= await this.ensureProxy();
        try {
          reply = await adminCall(this.proxy.adminUrl, 'PUT', '/routes', body);
        } catch {
          // The proxy we knew is gone (killed, restarted): find or start it again, once.
          this.proxy = await this.ensureProxy();
          reply = await adminCall(this.proxy.adminUrl, 'PUT', '/routes', body);
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
      const reply = await adminCall(info.adminUrl, 'GET', '/routes');
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
      const reply = await adminCall(info.adminUrl, 'GET', '/metrics?window=1000');
      if (reply.status !== 200) throw new Error(replyError(reply));
      const backends = (reply.body as { backends: Record<string, { inflight: number }> }).backends;
      return Object.fromEntries(Object.entries(backends).map(([key, b]) => [key, b.inflight]));
    } catch (err) {
      throw this.fail('could not read in-flight requests', err);
    }
  }

  async close(): Promise<void> {
    // Nothing is held open: the proxy keeps serving and the next router instance re-attaches.
    this.proxy = null;
  }

  shutdown(): Promise<void> {
    return this.serial(async () => {
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
  create: (config, ctx) => new BuiltinRouter(config, ctx),
};
