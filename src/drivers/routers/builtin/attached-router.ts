/**
 * The built-in router attached to a proxy that runs on its own (`router.proxy`: `sluice proxy` on
 * the data-plane host), so every control-plane replica drives the same proxy whatever its data dir.
 * It never starts, restarts or stops that proxy: it sets routes, reads them, the in-flight counts
 * and drills' faults through the admin API, with the secret the config points to (read at each
 * call, never stored). Before its first call, and after any call that got no answer, it checks the
 * proxy: it must answer GET /healthz to the secret and serve `router.listen`.
 *
 * Each apply says how it went on the one host (`lastApply`), as a router over several hosts does:
 * a proxy that does not confirm a table pauses a release in progress, and a rollback is retried
 * until the proxy answers, its revert time in the rollback log.
 */
import { join } from 'node:path';
import { SerialQueue } from '../../../core/serial-queue.ts';
import { resolveSecret, type SecretRef } from '../../secrets.ts';
import type { DriverContext } from '../../types.ts';
import type { HostsApplied, RouteTable, Router } from '../types.ts';
import { type AdminReply, adminCall, replyError } from './admin-client.ts';
import { recordAttached } from './attached-file.ts';
import type { AttachedProxyConfig, BuiltinRouterConfig } from './config.ts';
import { ProxyFaults } from './proxy-faults.ts';
import { servesAddress } from './serves-address.ts';

const refName = (ref: SecretRef): string =>
  'secretEnv' in ref ? `secretEnv ${ref.secretEnv}` : `secretFile ${ref.secretFile}`;

export class AttachedRouter implements Router {
  readonly #config: BuiltinRouterConfig;
  readonly #ctx: DriverContext;
  readonly #adminUrl: string;
  readonly #secret: SecretRef;
  /** The proxy answered /healthz to the secret and serves router.listen, and has answered since. */
  #checked = false;
  /** Applies run one at a time, in order. */
  readonly #queue = new SerialQueue();
  #last: HostsApplied | null = null;
  readonly faults: ProxyFaults;

  constructor(config: BuiltinRouterConfig, proxy: AttachedProxyConfig, ctx: DriverContext) {
    this.#config = config;
    this.#ctx = ctx;
    this.#adminUrl = proxy.admin.replace(/\/+$/, '');
    this.#secret = proxy.secret as SecretRef;
    recordAttached(join(ctx.serviceDir, 'router'), this.#adminUrl, this.#secret);
    this.faults = new ProxyFaults((method, path, body) => this.#call(method, path, body));
  }

  #fail(what: string, err: unknown): Error {
    return new Error(
      `builtin router for service "${this.#ctx.service}" (proxy ${this.#adminUrl}): ${what}: ${(err as Error).message ?? err}`,
    );
  }

  #refused(): Error {
    return new Error(
      `the proxy refused the admin secret (${refName(this.#secret)}): it is not the secret the proxy was started with (its --admin-secret-file)`,
    );
  }

  /** The proxy answers to the secret and serves router.listen; throws saying which does not hold. */
  async #check(secret: string): Promise<void> {
    const reply = await adminCall(this.#adminUrl, secret, 'GET', '/healthz');
    if (reply.status === 401) throw this.#refused();
    if (reply.status !== 200) throw new Error(`GET /healthz answered ${replyError(reply)}`);
    const served = (reply.body as { listen?: unknown } | null)?.listen;
    if (typeof served !== 'string')
      throw new Error(
        'the proxy does not say which address it serves (GET /healthz has no listen): run it with this version of `sluice proxy`',
      );
    if (!servesAddress(served, this.#config.listen))
      throw new Error(
        `router.listen is ${this.#config.listen}, but the proxy serves ${served}; set router.listen to the address the proxy serves (its --listen)`,
      );
    if (!this.#checked)
      this.#ctx.log('info', 'attached to the built-in proxy', { admin: this.#adminUrl, listen: served });
    this.#checked = true;
  }

  async #call(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<AdminReply> {
    const secret = resolveSecret(this.#secret);
    try {
      if (!this.#checked) await this.#check(secret);
      const reply = await adminCall(this.#adminUrl, secret, method, path, body);
      if (reply.status === 401) throw this.#refused();
      return reply;
    } catch (err) {
      this.#checked = false;
      throw err;
    }
  }

  apply(table: RouteTable): Promise<void> {
    const stickiness = table.stickiness ?? this.#config.stickiness;
    const body: RouteTable = stickiness === undefined ? table : { ...table, stickiness };
    return this.#queue.run(async () => {
      let reply: AdminReply;
      try {
        reply = await this.#call('PUT', '/routes', body);
      } catch (err) {
        this.#last = { applied: {}, unreachable: { [this.#adminUrl]: (err as Error).message } };
        throw this.#fail('could not apply the route table', err);
      }
      if (reply.status !== 200) {
        this.#last = { applied: {}, unreachable: { [this.#adminUrl]: `refused: ${replyError(reply)}` } };
        throw this.#fail('the proxy refused the route table', new Error(replyError(reply)));
      }
      this.#last = { applied: { [this.#adminUrl]: Date.now() }, unreachable: {} };
    });
  }

  lastApply(): HostsApplied | null {
    return this.#last;
  }

  async read(): Promise<RouteTable | null> {
    try {
      const reply = await this.#call('GET', '/routes');
      if (reply.status === 404) return null;
      if (reply.status !== 200) throw new Error(replyError(reply));
      return reply.body as RouteTable;
    } catch (err) {
      throw this.#fail('could not read the route table', err);
    }
  }

  async inflight(): Promise<Record<string, number> | null> {
    try {
      const reply = await this.#call('GET', '/metrics?window=1000');
      if (reply.status !== 200) throw new Error(replyError(reply));
      const backends = (reply.body as { backends: Record<string, { inflight: number }> }).backends;
      return Object.fromEntries(Object.entries(backends).map(([key, b]) => [key, b.inflight]));
    } catch (err) {
      throw this.#fail('could not read in-flight requests', err);
    }
  }

  async close(): Promise<void> {
    // Nothing is held open, nothing is supervised: the proxy is the operator's.
  }

  async shutdown(): Promise<void> {
    // Not ours to stop: it keeps serving its last table (other services or replicas may use it).
    this.#ctx.log('info', 'left the attached built-in proxy running', { admin: this.#adminUrl });
  }
}
