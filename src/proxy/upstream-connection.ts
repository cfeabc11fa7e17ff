/**
 * One keep-alive TCP connection to an upstream endpoint, carrying one request at a time: the
 * request head is one string written in one call, the answer is read by ResponseParser and handed
 * to the request's Exchange. This replaces node:http's client (ClientRequest, Agent, IncomingMessage
 * and a pipe per request), which cost the proxy most of its JavaScript time per request
 * (src/proxy/README.md, "Performance"). A connection goes back to its endpoint's idle list once
 * its answer was read whole and the upstream keeps it open.
 */
import net from 'node:net';
import { ResponseParser, UpstreamProtocolError } from './response-parser.ts';

/** The request in flight on a connection: where its answer goes. */
export interface Exchange {
  head(status: number, statusMessage: string, rawHeaders: string[]): void;
  /** Body bytes (valid only during the call); `last`: the body ends with them (content-length known). */
  body(chunk: Buffer, last: boolean): void;
  /** The answer was read whole. */
  end(): void;
  /**
   * No whole answer: refused, reset, malformed, or no byte within the timeout. `headDone`: the head
   * had arrived (the client's response has started); `reused`: the connection carried a request before.
   */
  fail(headDone: boolean, timedOut: boolean, reused: boolean): void;
}

/** Where a connection comes from and goes back to (upstream-pool.ts's Endpoint). */
export interface ConnectionHome {
  readonly hostname: string;
  readonly port: number;
  /** The connection answered whole and may carry another request. */
  idle(conn: UpstreamConnection): void;
  /** The connection closed (or will not be reused). */
  gone(conn: UpstreamConnection): void;
}

export class UpstreamConnection {
  readonly socket: net.Socket;
  private exchange: Exchange | null = null;
  private readonly parser: ResponseParser;
  private readonly home: ConnectionHome;
  /** Requests started on this connection. */
  private uses = 0;
  private reusableAtEnd = false;
  private completed = false;
  private closed = false;
  /** When an idle connection is too old to use: a second before the upstream's keep-alive timeout. */
  idleUntil = Infinity;

  constructor(home: ConnectionHome, timeoutMs: number) {
    this.home = home;
    this.parser = new ResponseParser({
      head: (status, message, raw) => this.exchange?.head(status, message, raw),
      body: (chunk) => this.exchange?.body(chunk, this.parserLeftNothing()),
      complete: (reusable) => {
        this.completed = true;
        this.reusableAtEnd = reusable;
      },
    });
    this.socket = net.connect({ host: home.hostname, port: home.port, noDelay: true });
    this.socket.setTimeout(timeoutMs);
    this.socket.on('data', (data: Buffer) => this.onData(data));
    this.socket.on('end', () => this.onEnd());
    this.socket.on('timeout', () => this.broken(true));
    this.socket.on('error', () => this.broken(false));
    this.socket.on('close', () => this.broken(false));
  }

  /** The parser ends the body with this chunk (content-length bodies only). */
  private parserLeftNothing(): boolean {
    return this.parser.lastBytes;
  }

  /** Sends a request: its whole head as one string (latin1, as node:http writes headers). */
  start(head: string, noBody: boolean, exchange: Exchange): void {
    this.exchange = exchange;
    this.completed = false;
    this.uses++;
    this.parser.expect(noBody);
    this.socket.write(head, 'latin1');
  }

  /** Request body bytes; false when the socket's buffer is full (wait for 'drain'). */
  write(chunk: Buffer | string): boolean {
    return this.socket.write(chunk);
  }

  /** The client left, or its answer cannot be sent: drop the connection and any answer still coming. */
  abort(): void {
    this.exchange = null;
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.home.gone(this);
  }

  private onData(data: Buffer): void {
    try {
      this.parser.feed(data);
    } catch (err) {
      if (!(err instanceof UpstreamProtocolError)) throw err;
      return this.broken(false);
    }
    // Not complete yet, or dropped meanwhile (the client left, its answer could not be sent).
    if (!this.completed || this.closed) return;
    this.completed = false;
    const exchange = this.exchange;
    this.exchange = null;
    if (this.reusableAtEnd) {
      // As node:http's Agent does: never send on a connection the upstream is about to close.
      const hint = this.parser.keepAliveMs;
      this.idleUntil = hint > 0 ? Date.now() + hint - 1000 : Infinity;
      this.home.idle(this);
    } else this.close();
    exchange?.end();
  }

  private onEnd(): void {
    // A body read until the connection's end is whole now; anything else in progress was cut.
    if (this.parser.end() && this.exchange !== null && this.completed) {
      this.completed = false;
      const exchange = this.exchange;
      this.exchange = null;
      this.close();
      exchange.end();
      return;
    }
    this.broken(false);
  }

  /** The connection failed or ended: the request in flight (if any) gets no whole answer. */
  private broken(timedOut: boolean): void {
    const exchange = this.exchange;
    this.exchange = null;
    const headDone = this.parser.headDone;
    this.close();
    exchange?.fail(headDone, timedOut, this.uses > 1);
  }
}
