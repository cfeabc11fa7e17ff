/**
 * The request path: pick a backend, stream the request to one of its endpoints and the response
 * back, and record the outcome for that backend. A connection failure before any response byte
 * is retried once elsewhere when the request has no body; otherwise the client gets 502 (or 504
 * on upstream timeout). Every attempt is counted once: requests, errors, latency, in-flight, and
 * its answer: the upstream's status, or `connect` when the upstream gave no whole answer.
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type RequestHead, requestHead, responseHeaders } from './headers.ts';
import type { Answer } from '../core/analysis/backend-metrics.ts';
import type { FlagPlane } from './flag-plane.ts';
import type { FaultBook } from './fault-book.ts';
import { injectFault } from './fault-effects.ts';
import { stickyPoint } from './picker.ts';
import type { LiveBackend, RouteState } from './route-state.ts';
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

export type Forwarder = (req: IncomingMessage, res: ServerResponse) => void;

export function createForwarder(
  routes: () => RouteState | null,
  upstreamTimeoutMs: number,
  flags?: FlagPlane,
  faults?: FaultBook,
): Forwarder {
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
    let timedOut = false;
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

    const upstream = http.request(
      {
        agent: endpoint.agent,
        hostname: endpoint.hostname,
        port: endpoint.port,
        method: req.method,
        path: endpoint.pathPrefix === '' ? req.url : endpoint.pathPrefix + req.url,
        headers: head.hasHost ? head.headers : head.headers.concat('host', endpoint.hostHeader),
        timeout: upstreamTimeoutMs,
      },
      (ures) => {
        status = ures.statusCode ?? 502;
        ures.on('end', () => settle(status));
        // The upstream went away mid-body: the client sees a cut response, the backend no whole answer.
        ures.on('error', () => {
          settle('connect');
          res.destroy();
        });
        try {
          res.writeHead(status, ures.statusMessage, responseHeaders(ures.rawHeaders));
        } catch {
          // Headers Node will not send on (e.g. invalid characters): the upstream answered badly.
          settle(502);
          ures.destroy();
          reply(res, 502, BAD_GATEWAY);
          return;
        }
        ures.pipe(res);
      },
    );
    upstream.on('timeout', () => {
      timedOut = true;
      upstream.destroy();
    });
    upstream.on('error', () => {
      if (settled) return;
      settle('connect');
      if (status !== 0) {
        res.destroy();
      } else if (timedOut) {
        reply(res, 504, GATEWAY_TIMEOUT);
      } else {
        const next = isRetry || head.hasBody || res.destroyed ? undefined : routes()?.pickOther(endpoint);
        if (next === undefined) reply(res, 502, BAD_GATEWAY);
        else send(req, res, head, next.backend, next.endpoint, startedAt, true);
      }
    });
    // The client left: stop the upstream work. Counted as a request with the status the upstream
    // gave, if any; without one it is not the backend's error.
    res.on('close', () => {
      if (settled) return;
      settle(status === 0 ? null : status);
      upstream.destroy();
    });
    if (head.hasBody) req.pipe(upstream);
    else upstream.end();
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
