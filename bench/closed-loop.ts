/**
 * A closed-loop HTTP driver: `concurrency` workers, each sending its next request as soon as the
 * previous one is answered, over keep-alive connections. It measures the most a target serves
 * at that concurrency (test/support/load.ts, open-loop, measures behaviour at a fixed rate).
 */
import http from 'node:http';
import { percentile } from '../test/support/load.ts';

export interface ClosedLoopOptions {
  /** Workers are spread evenly over these URLs (e.g. every instance of a version). */
  urls: string[];
  concurrency: number;
  /** Requests in this first stretch are sent but not counted (JIT, connections). */
  warmupMs: number;
  durationMs: number;
}

export interface ClosedLoopResult {
  /** Answered requests per second over the measured stretch. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Status 0 (connection error, timeout) or >= 500. */
  failed: number;
}

const REQUEST_TIMEOUT_MS = 10_000;

function once(agent: http.Agent, url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
      res.resume();
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
  });
}

export async function runClosedLoop(o: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  const started = performance.now();
  const measureFrom = started + o.warmupMs;
  const end = measureFrom + o.durationMs;
  const latencies: number[] = [];
  let failed = 0;
  const worker = async (url: string) => {
    while (performance.now() < end) {
      const t = performance.now();
      const status = await once(agent, url);
      if (t < measureFrom) continue;
      if (status === 0 || status >= 500) failed += 1;
      else latencies.push(performance.now() - t);
    }
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency }, (_, i) => worker(o.urls[i % o.urls.length]!)));
  } finally {
    agent.destroy();
  }
  // Requests started in the stretch may end a little after it: divide by the time actually taken.
  const seconds = (performance.now() - measureFrom) / 1000;
  return {
    rps: Math.round((latencies.length + failed) / seconds),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    requests: latencies.length + failed,
    failed,
  };
}

const round = (ms: number) => Math.round(ms * 100) / 100;
