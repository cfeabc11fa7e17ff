/**
 * The load side of bench/routers.ts, in its own process so that the router under test (driven by
 * the parent) and the load never share an event loop. Closed loop over keep-alive connections
 * until the parent sends "stop"; then it sends back every request's start time (ms on the shared
 * wall clock), status and x-version, and exits.
 *
 * A GET reset on a reused keep-alive connection before any answer is sent again once on a new
 * connection (as browsers and most clients do, RFC 9112 §9.3.1) and counted in `resets`; a request
 * whose retry fails too, or that got status 0 or >= 500 otherwise, is counted in `failed`.
 * Usage (forked): router-load.ts <url> <concurrency>
 */
import http from 'node:http';

export interface LoadTrace {
  /** Start of each request, ms since the epoch with sub-ms precision. */
  starts: number[];
  versions: string[];
  statuses: number[];
  /** Requests whose first try met a reset on a reused connection (then retried). */
  resets: number;
  failed: number;
}

const now = () => performance.timeOrigin + performance.now();

function once(url: string, agent: http.Agent | false): Promise<{ status: number; version: string; reset: boolean }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, timeout: 10_000 }, (res) => {
      const version = String(res.headers['x-version'] ?? '');
      res.on('end', () => resolve({ status: res.statusCode ?? 0, version, reset: false }));
      res.on('error', () => resolve({ status: 0, version, reset: false }));
      res.resume();
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const reset = agent !== false && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
      resolve({ status: 0, version: '', reset });
    });
  });
}

async function main(): Promise<void> {
  const [url, concurrencyText] = process.argv.slice(2) as [string, string];
  const concurrency = Number(concurrencyText);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const trace: LoadTrace = { starts: [], versions: [], statuses: [], resets: 0, failed: 0 };
  let stopping = false;
  process.on('message', (m) => {
    if (m === 'stop') stopping = true;
  });
  const worker = async () => {
    while (!stopping) {
      const start = now();
      let answer = await once(url, agent);
      if (answer.reset) {
        trace.resets++;
        answer = await once(url, false);
      }
      if (answer.status === 0 || answer.status >= 500) trace.failed++;
      trace.starts.push(start);
      trace.versions.push(answer.version);
      trace.statuses.push(answer.status);
    }
  };
  process.send!('ready');
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  process.send!(trace, () => process.exit(0));
}

if (process.send !== undefined) void main();
