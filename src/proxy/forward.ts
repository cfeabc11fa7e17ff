/**
 * The request path: pick a backend, stream the request to one of its endpoints and the response
 * back, and record the outcome for that backend. A connection failure before any response byte
 * is retried once elsewhere when the request has no body; otherwise the client gets 502 (or 504
 * on upstream timeout). Every attempt is counted once: requests, errors, latency, in-flight, and
 * its answer: the upstream's status, or `connect` when the upstream gave no whole answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type RequestHead, requestHead, requestText, responseHeaders } from './headers.ts';
import type { Answer } from '../core/analysis/backend-metrics.ts';
import type { FlagPlane } from './flag-plane.ts';
import type { FaultBook } from './fault-book.ts';
import { injectFault } from './fault-effects.ts';
import { stickyPoint } from './picker.ts';
import type { LiveBackend, RouteState } from './route-state.ts';
import type { Exchange, UpstreamConnection } from './upstream-connection.ts';
import type { Endpoint } from './upstream-pool.ts';

const NO_ROUTE = Buffer.from('sluice proxy: no route table, or no backend with weight > 0\n');
const BAD_GATEWAY = Buffer.from('sluice proxy: could not reach the upstream\n');
const GATEWAY_TIMEOUT = Buffer.from('sluice proxy: the upstream did not answer in time\n');

function reply(res: ServerResponse, status: number, body: Buffer): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  res.writeHead(status, ['content-type', 'text/plain; charset=utf-8', 'content-length', String(body.length)]);
  res.end(body);
}

const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/** Streams the client's request body upstream, chunked again if it came chunked, with back-pressure. */
function sendBody(req: IncomingMessage, conn: UpstreamConnection, chunked: boolean): void {
  const resume = (): void => void req.resume();
  req.on('data', (chunk: Buffer) => {
    let ok: boolean;
    if (chunked) {
      conn.socket.cork();
      conn.write(`${chunk.length.toString(16)}\r\n`);
      conn.write(chunk);
      ok = conn.write(CRLF);
      conn.socket.uncork();
    } else ok = conn.write(chunk);
    if (!ok) {
      req.pause();
      conn.socket.once('drain', resume);
    }
  });
  if (chunked) req.on('end', () => void conn.write(LAST_CHUNK));
}

export type Forwarder = (req: IncomingMessage, res: ServerResponse) => void;

export function createForwarder(routes: () => RouteState | null, flags?: FlagPlane, faults?: FaultBook): Forwarder {
  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    head: RequestHead,
    backend: LiveBackend,
    endpoint: Endpoint,
    startedAt: number,
    isRetry: boolean,
  ): void => {
    let settled = false;
    /** The upstream's status once its response head arrived (0: none yet). */
    let status = 0;
    const metrics = backend.metrics;
    metrics.inflight++;
    endpoint.acquire();
    const settle = (answer: Answer): void => {
      if (settled) return;
      settled = true;
      metrics.inflight--;
      endpoint.release();
      metrics.record(Date.now(), performance.now() - startedAt, answer);
    };
    const conn = endpoint.connection();
    const exchange: Exchange = {
      head(code, message, rawHeaders) {
        status = code;
        try {
          res.writeHead(code, message, responseHeaders(rawHeaders));
        } catch {
          // Headers Node will not send on (e.g. invalid characters): the upstream answered badly.
          settle(502);
          conn.abort();
          reply(res, 502, BAD_GATEWAY);
        }
      },
      body(chunk, last) {
        if (settled || res.destroyed) return;
        if (last) {
          // The whole answer is here: settle first, so the count is in before the client sees the end.
          settle(status);
          res.end(chunk);
        } else if (!res.write(chunk)) {
          conn.socket.pause();
          res.once('drain', () => conn.socket.resume());
        }
      },
      end() {
        if (settled) return;
        settle(status);
        res.end();
      },
      fail(headDone, timedOut) {
        if (settled) return;
        settle('connect');
        if (headDone) {
          // The upstream went away mid-body: the client sees a cut response, the backend no whole answer.
          res.destroy();
        } else if (timedOut) {
          reply(res, 504, GATEWAY_TIMEOUT);
        } else {
          const next = isRetry || head.hasBody || res.destroyed ? undefined : routes()?.pickOther(endpoint);
          if (next === undefined) reply(res, 502, BAD_GATEWAY);
          else send(req, res, head, next.backend, next.endpoint, startedAt, true);
        }
      },
    };
    // The client left: stop the upstream work. Counted as a request with the status the upstream
    // gave, if any; without one it is not the backend's error.
    res.on('close', () => {
      if (settled) return;
      settle(status === 0 ? null : status);
      conn.abort();
    });
    const path = endpoint.pathPrefix === '' ? req.url! : endpoint.pathPrefix + req.url!;
    conn.start(
      requestText(req.method!, path, head.headers, head.hasHost ? undefined : endpoint.hostHeader),
      req.method === 'HEAD',
      exchange,
    );
    if (head.hasBody) sendBody(req, conn, head.chunked);
  };

  return (req, res) => {
    const state = routes();
    if (state === null) return reply(res, 503, NO_ROUTE);
    const head = requestHead(
      req.rawHeaders,
      req.socket.remoteAddress,
      state.stickyHeader,
      state.stickyCookie,
      state.cohorts?.headers,
    );
    const backend =
      (state.cohorts === undefined ? undefined : state.pickCohort(head.routeValues, head.cookie)) ??
      (head.stickyKey === undefined ? state.pick() : state.pickSticky(stickyPoint(head.stickyKey)));
    const endpoint = backend?.nextEndpoint();
    if (backend === undefined || endpoint === undefined) return reply(res, 503, NO_ROUTE);
    const startedAt = performance.now();
    flags?.assign(req, res, head.headers, startedAt);
    // A drill's fault (fault-book.ts): with none held, one comparison.
    const fault = faults === undefined || faults.size === 0 ? undefined : faults.pick(backend.key, req.rawHeaders);
    if (fault !== undefined)
      return injectFault(fault, req, res, backend, startedAt, () =>
        send(req, res, head, backend, endpoint, startedAt, false),
      );
    send(req, res, head, backend, endpoint, startedAt, false);
  };
}
