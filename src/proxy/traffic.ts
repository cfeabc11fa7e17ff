/**
 * The traffic listener, the same in a single-process proxy (main.ts) and in each worker of a
 * multi-worker one (worker.ts): node:http's server in front of the forwarder.
 */
import http from 'node:http';
import type { DataPlane } from './data-plane.ts';
import type { FlagPlane } from './flag-plane.ts';
import { createForwarder } from './forward.ts';

/** In-flight requests get this long to finish after SIGTERM/SIGINT (or the primary's stop). */
export const DRAIN_MS = 10_000;

export function createTrafficServer(plane: DataPlane, flags: FlagPlane): http.Server {
  return http.createServer(
    // requestTimeout 0: long uploads and streamed responses are the upstream's business.
    { requestTimeout: 0, keepAliveTimeout: 15_000 },
    createForwarder(plane.routes, flags, plane.faults),
  );
}

export function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/**
 * Stop accepting and let in-flight requests finish: keep-alive connections close as soon as their
 * current answer is done. `finish` runs once the last is, or after DRAIN_MS at the latest.
 */
export function drain(traffic: http.Server, finish: () => void): void {
  let done = false;
  const once = (): void => {
    if (done) return;
    done = true;
    finish();
  };
  traffic.close(once);
  traffic.closeIdleConnections();
  setInterval(() => traffic.closeIdleConnections(), 50).unref();
  setTimeout(once, DRAIN_MS).unref();
}
