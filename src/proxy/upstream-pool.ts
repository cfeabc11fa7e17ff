/**
 * One keep-alive connection pool per upstream endpoint, shared by every table that lists it, so
 * a weight change never drops warm connections. An endpoint that leaves the table retires: its
 * pool is destroyed once its last in-flight request ends.
 */
import { type ConnectionHome, UpstreamConnection } from './upstream-connection.ts';

/** Idle connections kept per endpoint (as node:http's Agent maxFreeSockets was). */
const MAX_IDLE = 256;

export class Endpoint implements ConnectionHome {
  readonly url: string;
  /** Connect address (IPv6 without brackets). */
  readonly hostname: string;
  readonly port: number;
  /** host[:port] as it appears in the URL, for requests that came without a Host header. */
  readonly hostHeader: string;
  /** Path of the base URL without the trailing slash ('' for the root), prepended to request paths. */
  readonly pathPrefix: string;
  /** How long a connection may stay without a byte before its request gets 504 (and an idle one closes). */
  private readonly timeoutMs: number;
  /** Connections that answered whole and wait for the next request, the most recent last. */
  private readonly free: UpstreamConnection[] = [];
  private readonly open = new Set<UpstreamConnection>();
  inflight = 0;
  retired = false;
  destroyed = false;

  constructor(url: string, timeoutMs: number) {
    const u = new URL(url);
    this.url = url;
    this.hostname = u.hostname.replace(/^\[|\]$/g, '');
    this.port = u.port === '' ? 80 : Number(u.port);
    this.hostHeader = u.host;
    this.pathPrefix = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
    this.timeoutMs = timeoutMs;
  }

  /** A connection for one request: the most recently freed one, or a new one. */
  connection(): UpstreamConnection {
    let conn = this.free.pop();
    if (conn !== undefined && conn.idleUntil !== Infinity) {
      const now = Date.now();
      while (conn !== undefined && conn.idleUntil <= now) {
        conn.abort();
        conn = this.free.pop();
      }
    }
    if (conn !== undefined) return conn;
    const fresh = new UpstreamConnection(this, this.timeoutMs);
    this.open.add(fresh);
    return fresh;
  }

  idle(conn: UpstreamConnection): void {
    if (this.destroyed || this.free.length >= MAX_IDLE) conn.abort();
    else this.free.push(conn);
  }

  gone(conn: UpstreamConnection): void {
    this.open.delete(conn);
    const i = this.free.lastIndexOf(conn);
    if (i >= 0) this.free.splice(i, 1);
  }

  acquire(): void {
    this.inflight++;
  }

  release(): void {
    if (--this.inflight === 0 && this.retired) this.destroy();
  }

  destroy(): void {
    this.destroyed = true;
    for (const conn of [...this.open]) conn.abort();
  }
}

export class UpstreamPool {
  private readonly byUrl = new Map<string, Endpoint>();
  private readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

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
      else this.byUrl.set(url, new Endpoint(url, this.timeoutMs));
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
