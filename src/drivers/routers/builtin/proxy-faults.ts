/**
 * Drills' faults in the built-in proxy, through its admin API (GET|PUT|DELETE /faults). The
 * proxy holds each fault's TTL itself; a proxy that is not running has no faults to clear.
 */
import type { ActiveFault, FaultRule } from '../../../core/drills/fault.ts';
import type { FaultControl } from '../types.ts';
import { type AdminReply, replyError } from './admin-client.ts';

/** One admin call to the router's proxy; null when no proxy is running. */
export type ProxyCall = (method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown) => Promise<AdminReply | null>;

export class ProxyFaults implements FaultControl {
  readonly #call: ProxyCall;

  constructor(call: ProxyCall) {
    this.#call = call;
  }

  async #request(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    const reply = await this.#call(method, path, body);
    if (reply === null) {
      if (method === 'PUT') throw new Error('the built-in proxy is not running: no fault can be injected');
      return null;
    }
    if (reply.status !== 200) throw new Error(`the built-in proxy refused ${method} ${path}: ${replyError(reply)}`);
    return reply.body;
  }

  async set(faults: FaultRule[]): Promise<ActiveFault[]> {
    return ((await this.#request('PUT', '/faults', { faults })) as { faults: ActiveFault[] }).faults;
  }

  async clear(ids?: string[]): Promise<ActiveFault[]> {
    const query = ids === undefined ? '' : `?${ids.map((id) => `id=${encodeURIComponent(id)}`).join('&')}`;
    const body = (await this.#request('DELETE', `/faults${query}`)) as { removed: ActiveFault[] } | null;
    return body?.removed ?? [];
  }

  async list(): Promise<ActiveFault[]> {
    const body = (await this.#request('GET', '/faults')) as { faults: ActiveFault[] } | null;
    return body?.faults ?? [];
  }
}
