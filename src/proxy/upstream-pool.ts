/**
 * One keep-alive connection pool per upstream endpoint, shared by every table that lists it, so
 * a weight change never drops warm connections. An endpoint that leaves the table retires: its
 * pool is destroyed once its last in-flight request ends.
 */
import http from 'node:http';

export class Endpoint {
  readonly url: string;
  /** Connect address (IPv6 without brackets). */
  readonly hostname: string;
  readonly port: number;
  /** host[:port] as it appears in the URL, for requests that came without a Host header. */
  readonly hostHeader: string;
  /** Path of the base URL without the trailing slash ('' for the root), prepended to request paths. */
  readonly pathPrefix: string;
  readonly agent: http.Agent;
  inflight = 0;
  retired = false;
  destroyed = false;

  constructor(url: string) {
    const u = new URL(url);
    this.url = url;
    this.hostname = u.hostname.replace(/^\[|\]$/g, '');
    this.port = u.port === '' ? 80 : Number(u.port);
    this.hostHeader = u.host;
    this.pathPrefix = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
    this.agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 1000, maxSockets: Infinity, maxFreeSockets: 256 });
  }

  acquire(): void {
    this.inflight++;
  }

  release(): void {
    if (--this.inflight === 0 && this.retired) this.destroy();
  }

  destroy(): void {
    this.destroyed = true;
    this.agent.destroy();
  }
}

export class UpstreamPool {
  private readonly byUrl = new Map<string, Endpoint>();

  /** The endpoints for `urls` (reusing pools); every other endpoint retires. */
  sync(urls: ReadonlySet<string>): void {
    for (const [url, ep] of this.byUrl) {
      if (urls.has(url)) continue;
      if (ep.destroyed) {
        this.byUrl.delete(url);
        continue;
      }
      ep.retired = true;
      if (ep.inflight === 0) {
        ep.destroy();
        this.byUrl.delete(url);
      }
    }
    for (const url of urls) {
      const ep = this.byUrl.get(url);
      if (ep !== undefined && !ep.destroyed) ep.retired = false;
      else this.byUrl.set(url, new Endpoint(url));
    }
  }

  get(url: string): Endpoint {
    const ep = this.byUrl.get(url);
    if (ep === undefined) throw new Error(`no pool for endpoint ${url}; sync() it first`);
    return ep;
  }

  destroyAll(): void {
    for (const ep of this.byUrl.values()) ep.destroy();
    this.byUrl.clear();
  }
}
