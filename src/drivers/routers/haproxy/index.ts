/**
 * The haproxy router. Weights, server addresses and cohort-route values change through HAProxy's
 * runtime API (no reload, so a rollback lands in milliseconds) and are read back to verify them.
 * Managed mode (`listen`) runs Sluice's own haproxy for the service and reloads it only when the
 * config's shape changes; external mode (`adminSocket` + `backend`) fills the server slots of a
 * backend in an HAProxy someone else runs.
 */
import { join } from 'node:path';
import type { DriverContext, DriverFactory } from '../../types.ts';
import type { RouteTable, Router } from '../types.ts';
import { heartbeatUrl, upstreamAddress, upstreamsOf, writeLogStream } from '../../access-log.ts';
import { logSource, routeBackend } from './config-file.ts';
import { type HaproxyRouterConfig, haproxyRouterConfig } from './config.ts';
import { ManagedHaproxy } from './managed-haproxy.ts';
import { type HaproxyState, checkTable, readState, removeState, writeState } from './state.ts';
import { type Plan, applyPlan, planFor, verify } from './sync.ts';
import { currentSessions, serversState } from './runtime-api.ts';
import { servedPercents } from './layout.ts';
import { SerialQueue } from '../../../core/serial-queue.ts';
import { HaproxyFaults } from './faults.ts';

export type { HaproxyRouterConfig };

const DEFAULT_UPSTREAM_TIMEOUT_MS = 60_000;

class HaproxyRouter implements Router {
  private readonly config: HaproxyRouterConfig;
  private readonly ctx: DriverContext;
  private readonly dir: string;
  private readonly managed: ManagedHaproxy | null;
  private readonly queue = new SerialQueue();
  /** Drills' faults through the runtime API (managed mode only: the rules are in the config Sluice writes). */
  readonly faults?: HaproxyFaults;

  constructor(config: HaproxyRouterConfig, ctx: DriverContext) {
    this.config = config;
    this.ctx = ctx;
    this.dir = join(ctx.serviceDir, 'router', 'haproxy');
    this.managed = config.listen === undefined ? null : new ManagedHaproxy(this.dir, config.binary);
    if (this.managed !== null) {
      const managed = this.managed;
      this.faults = new HaproxyFaults(
        managed.files.socket,
        managed.files.faultMap,
        () => readState(this.dir),
        async () => (await managed.running()) !== null,
        () => managed.lua,
      );
    }
  }

  private get socket(): string {
    return this.managed?.files.socket ?? this.config.adminSocket!;
  }

  private fail(what: string, err: unknown): Error {
    return new Error(`haproxy router for service "${this.ctx.service}": ${what}: ${(err as Error).message ?? err}`);
  }

  apply(table: RouteTable): Promise<void> {
    return this.queue.run(async () => {
      try {
        checkTable(table, this.managed !== null);
        const state = await readState(this.dir);
        const plan =
          this.managed === null ? await this.planExternal(table, state) : await this.planManaged(table, state);
        await applyPlan(plan, this.socket);
        await writeState(this.dir, plan.state);
        // Faults follow their revision onto its slots, beside the apply (never delaying it, never failing it).
        if (this.faults !== undefined) void this.#refollow();
        if (this.config.accessLog !== undefined) await this.describeLogStream(table, plan.state);
      } catch (err) {
        throw this.fail('could not apply the route table', err);
      }
    });
  }

  async #refollow(): Promise<void> {
    try {
      const now = Date.now();
      const live = (await this.faults!.list()).filter((f) => f.expiresAt > now);
      if (live.length > 0) await this.faults!.set(live.map((f) => ({ ...f, ttlMs: Math.max(1, f.expiresAt - now) })));
    } catch (err) {
      this.ctx.log('warn', `drill faults could not follow the new route table: ${(err as Error).message}`);
    }
  }

  /** Tells the access-log provider where this haproxy's lines come from and whose the upstreams are. */
  private async describeLogStream(table: RouteTable, state: HaproxyState): Promise<void> {
    const listen = this.config.listen!;
    // Which server slot holds which upstream, so the provider can hold HAProxy's own counters against the lines.
    const servers: Record<string, string> = {};
    const slots = (backend: string, assignment: Record<string, string>) => {
      for (const [slot, url] of Object.entries(assignment)) servers[`${backend}/${slot}`] = upstreamAddress(url);
    };
    slots(state.backend, state.main);
    state.routes.forEach((a, i) => slots(routeBackend(i), a));
    await writeLogStream(this.ctx.serviceDir, {
      sources: [{ source: logSource(listen), heartbeatUrl: heartbeatUrl(listen), adminSocket: this.socket }],
      upstreams: upstreamsOf(table.backends),
      servers,
    });
  }

  private async planExternal(table: RouteTable, state: HaproxyState | null): Promise<Plan> {
    const backend = this.config.backend!;
    const servers = (await serversState(this.socket, backend)).get(backend) ?? [];
    if (table.stickiness !== undefined && state === null) {
      this.ctx.log(
        'info',
        `stickiness is the "balance" setting of HAProxy backend "${backend}"; Sluice does not change it`,
      );
    }
    return planFor(table, {
      backend,
      slots: servers.map((s) => s.name),
      previous: state,
      base: null,
      running: true,
      files: null,
    });
  }

  private async planManaged(table: RouteTable, state: HaproxyState | null): Promise<Plan> {
    const managed = this.managed!;
    const pid = await managed.running();
    const base = {
      listen: this.config.listen!,
      upstreamTimeoutMs: Math.round(this.config.upstreamTimeout ?? DEFAULT_UPSTREAM_TIMEOUT_MS),
      stickiness: table.stickiness ?? this.config.stickiness,
      accessLog: this.config.accessLog,
      lua: managed.lua,
    };
    const plan = planFor(table, {
      backend: 'main',
      slots: [],
      previous: state,
      base,
      running: pid !== null,
      files: managed.files,
    });
    if (plan.reload) {
      // The shape changed (or no haproxy runs): a new, checked config, then a start or a reload.
      await managed.writeMaps(plan.maps);
      await managed.install(plan.config);
      if (pid === null) {
        const started = await managed.start(plan.state.generation);
        this.ctx.log('info', 'started haproxy', {
          pid: started,
          listen: base.listen,
          generation: plan.state.generation,
        });
      } else {
        await managed.reload(pid, plan.state.generation);
        this.ctx.log('info', 'reloaded haproxy', { pid, generation: plan.state.generation });
      }
    } else {
      plan.afterRuntime = async () => {
        await managed.writeMaps(plan.maps);
        await managed.rewrite(plan.config);
      };
    }
    return plan;
  }

  async read(): Promise<RouteTable | null> {
    try {
      const state = await readState(this.dir);
      if (state === null || state.table === null) return null;
      if (this.managed !== null && (await this.managed.running()) === null) return null;
      const problems = await verify(state, this.socket);
      if (problems.length === 0) return state.table;
      // Someone changed the servers behind Sluice's back: report what HAProxy serves now.
      const servers = (await serversState(this.socket)).get(state.backend) ?? [];
      const served = servedPercents(state.table, state.main, servers);
      return { ...state.table, backends: state.table.backends.map((b) => ({ ...b, weight: served.get(b.key) ?? 0 })) };
    } catch (err) {
      throw this.fail('could not read the route table', err);
    }
  }

  async inflight(): Promise<Record<string, number> | null> {
    try {
      const state = await readState(this.dir);
      if (state === null || state.table === null) return {};
      if (this.managed !== null && (await this.managed.running()) === null) return {};
      const sessions = await currentSessions(this.socket);
      const byUrl = new Map<string, number>();
      const add = (backend: string, assignment: Record<string, string>) => {
        for (const [slot, url] of Object.entries(assignment)) {
          byUrl.set(url, (byUrl.get(url) ?? 0) + (sessions.get(`${backend}/${slot}`) ?? 0));
        }
      };
      add(state.backend, state.main);
      state.routes.forEach((a, i) => add(`route${i}`, a));
      return Object.fromEntries(
        state.table.backends.map((b) => [b.key, b.endpoints.reduce((n, u) => n + (byUrl.get(u) ?? 0), 0)]),
      );
    } catch (err) {
      throw this.fail('could not read in-flight requests', err);
    }
  }

  async close(): Promise<void> {
    // Nothing is held open: haproxy keeps serving and the next router instance re-attaches.
  }

  shutdown(): Promise<void> {
    return this.queue.run(async () => {
      try {
        // An external HAProxy is not ours to stop; its servers keep their last weights.
        if (this.managed !== null) await this.managed.stop();
        await removeState(this.dir);
      } catch (err) {
        throw this.fail(`could not stop haproxy (see ${this.managed?.logFile ?? 'its log'})`, err);
      }
    });
  }
}

export const haproxyRouter: DriverFactory<Router, HaproxyRouterConfig> = {
  config: haproxyRouterConfig,
  create: (config, ctx) => new HaproxyRouter(config, ctx),
};
