/**
 * What a faulted request gets (src/core/drills/fault.ts). Each outcome is counted for the backend
 * the request was routed to, exactly as a real failure of that backend would be, so the
 * contract judges it from the same counters: an error as its status, a reset or a cut body as
 * `connect`, added latency in the request's latency.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultRule } from '../core/drills/fault.ts';
import type { LiveBackend } from './route-state.ts';

const INJECTED = Buffer.from('sluice proxy: fault injected by a drill\n');
/** The head of an aborted answer promises this many bytes; a fraction is sent before the cut. */
const ABORT_LENGTH = 4096;

/** Applies `fault` to the request; `forward` sends it on to the upstream (latency faults do, later). */
export function injectFault(
  fault: FaultRule,
  req: IncomingMessage,
  res: ServerResponse,
  backend: LiveBackend,
  startedAt: number,
  forward: () => void,
): void {
  const effect = fault.effect;
  const record = (answer: number | 'connect'): void =>
    backend.metrics.record(Date.now(), performance.now() - startedAt, answer);
  switch (effect.kind) {
    case 'latency': {
      const timer = setTimeout(() => {
        if (!res.destroyed) forward();
      }, effect.ms);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    case 'error':
      req.resume();
      record(effect.status);
      res.writeHead(effect.status, [
        'content-type',
        'text/plain; charset=utf-8',
        'content-length',
        String(INJECTED.length),
        'x-sluice-fault',
        fault.id,
      ]);
      res.end(INJECTED);
      return;
    case 'reset':
      record('connect');
      req.socket.resetAndDestroy();
      return;
    case 'metricsOutage':
      // Held under the metrics API's key, never a backend's: not a request fault.
      forward();
      return;
    case 'abort':
      req.resume();
      record('connect');
      res.writeHead(200, [
        'content-type',
        'application/octet-stream',
        'content-length',
        String(ABORT_LENGTH),
        'x-sluice-fault',
        fault.id,
      ]);
      res.write(INJECTED, () => res.destroy());
      return;
  }
}
