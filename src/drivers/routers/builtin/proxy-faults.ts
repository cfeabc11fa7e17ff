/**
 * Drills' faults in the built-in proxy, through its admin API (GET|PUT|DELETE /faults). The
 * proxy holds each fault's TTL itself; a proxy that is not running has no faults to clear.
 */
import type { ActiveFault, FaultRule } from '../../../core/drills/fault.ts';
import type { FaultControl } from '../types.ts';
import { adminCall, replyError } from './admin-client.ts';
import { readAdminSecret } from './admin-secret.ts';
import type { ProxyInfo } from './proxy-process.ts';

export class ProxyFaults implements FaultControl {
  readonly #dir: string;
  readonly #current: () => Promise<ProxyInfo | null>;

  constructor(dir: string, current: () => Promise<ProxyInfo | null>) {
    this.#dir = dir;
    this.#current = current;
  }

  async #call(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    const info = await this.#current();
    if (info === null) {
      if (method === 'PUT') throw new Error('the built-in proxy is not running: no fault can be injected');
      return null;
    }
    const reply = await adminCall(info.adminUrl, await readAdminSecret(this.#dir), method, path, body);
    if (reply.status !== 200) throw new Error(`the built-in proxy refused ${method} ${path}: ${replyError(reply)}`);
    return reply.body;
  }

  async set(faults: FaultRule[]): Promise<ActiveFault[]> {
    return ((await this.#call('PUT', '/faults', { faults })) as { faults: ActiveFault[] }).faults;
  }

  async clear(ids?: string[]): Promise<ActiveFault[]> {
    const query = ids === undefined ? '' : `?${ids.map((id) => `id=${encodeURIComponent(id)}`).join('&')}`;
    const body = (await this.#call('DELETE', `/faults${query}`)) as { removed: ActiveFault[] } | null;
    return body?.removed ?? [];
  }

  async list(): Promise<ActiveFault[]> {
    const body = (await this.#call('GET', '/faults')) as { faults: ActiveFault[] } | null;
    return body?.faults ?? [];
  }
}
