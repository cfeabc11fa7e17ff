import { join } from 'node:path';
import { isActive, type ServiceState } from '../core/release/state.ts';
import type { DriverFactories } from '../drivers/factories.ts';
import type { DriverContext } from '../drivers/types.ts';
import type { RouteTable, Router } from '../drivers/routers/types.ts';

/**
 * A blue-green preview on a second listener: a router of the service's own kind, on the preview
 * address, serving only the new revision while the release is before its switch. It keeps its
 * state in `<serviceDir>/preview/` so it never touches the service's main data plane, and it is
 * shut down when the switch happens or the release ends.
 */
export class PreviewListener {
  readonly #config: { driver: string } & Record<string, unknown>;
  readonly #ctx: DriverContext;
  #router: Router | null = null;
  /** What was last brought about: undefined until the first sync, which also cleans up after an earlier controller. */
  #applied: string | null | undefined = undefined;
  #chain: Promise<void> = Promise.resolve();
  readonly #drivers: DriverFactories;

  constructor(
    routerConfig: { driver: string } & Record<string, unknown>,
    ctx: DriverContext,
    drivers: DriverFactories,
  ) {
    this.#drivers = drivers;
    this.#config = routerConfig;
    this.#ctx = { ...ctx, serviceDir: join(ctx.serviceDir, 'preview') };
  }

  /** A router of the service's kind on `listen` (routers name their address `listen`). */
  #create(listen: string): Router {
    return this.#drivers.router({ ...this.#config, listen } as { driver: string }, this.#ctx);
  }

  /** The table the preview must serve now, or null when there must be no preview. */
  static tableOf(state: ServiceState): { listen: string; table: RouteTable } | null {
    const r = state.release;
    const preview = r?.plan.blueGreen?.preview;
    if (!isActive(r) || r.from === null || preview === undefined || !('listen' in preview)) return null;
    if ((state.weights[r.to.key] ?? 0) >= 100 || r.completing || r.status === 'Verifying') return null;
    const rt = state.runtimes[r.to.key];
    if (rt?.status !== 'ready' || rt.instances.length === 0) return null;
    return {
      listen: preview.listen,
      table: {
        backends: [{ key: r.to.key, version: r.to.version, weight: 100, endpoints: rt.instances.map((i) => i.url) }],
      },
    };
  }

  /** Bring the preview in line with the state; errors go to `failed`, the loop goes on. */
  sync(state: ServiceState, failed: (operation: string, err: unknown) => Promise<void>): Promise<void> {
    const wanted = PreviewListener.tableOf(state);
    const key = wanted === null ? null : JSON.stringify(wanted);
    if (key === this.#applied) return this.#chain;
    this.#applied = key;
    this.#chain = this.#chain.then(async () => {
      try {
        if (wanted === null) {
          // Also stops a preview proxy left by an earlier controller.
          await (this.#router ?? this.#create('127.0.0.1:0')).shutdown();
          this.#router = null;
          return;
        }
        this.#router ??= this.#create(wanted.listen);
        await this.#router.apply(wanted.table);
      } catch (err) {
        this.#applied = undefined; // tried again on the next tick
        await failed(wanted === null ? 'stop the preview listener' : `serve the preview on ${wanted.listen}`, err);
      }
    });
    return this.#chain;
  }

  close(): Promise<void> {
    return this.#router?.close() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    const router = this.#router ?? this.#create('127.0.0.1:0');
    this.#router = null;
    return router.shutdown();
  }
}
