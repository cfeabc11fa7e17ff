/**
 * Test support for router tests: tiny upstream HTTP servers that answer with their name, free
 * ports, and a keep-alive client that can drive concurrent load. Everything binds 127.0.0.1 on
 * ephemeral ports and is closed by the test that made it.
 */
import http from 'node:http';
import net from 'node:net';
import type { TestContext } from 'node:test';

export interface Upstream {
  name: string;
  url: string;
  /** Requests it has answered. */
  hits: number;
  close(): Promise<void>;
}

export async function startUpstream(t: TestContext, name: string, handler?: http.RequestListener): Promise<Upstream> {
  const server = http.createServer(
    handler ??
      ((req, res) => {
        req.resume();
        req.on('end', () => {
          upstream.hits++;
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(name);
        });
      }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const upstream: Upstream = {
    name,
    url: `http://127.0.0.1:${port}`,
    hits: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  t.after(() => upstream.close());
  return upstream;
}

/** A port for a router's listener: outside the range the upstreams (bound to port 0) get theirs from. */
export { freeListenPort as freePort } from '../free-port.ts';

export interface Answer {
  status: number;
  body: string;
  /** Sent twice: the first try met a reset on a reused keep-alive connection (see `request`). */
  retried?: boolean;
}

export function keepAliveClient(t: TestContext, maxSockets = 32): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  t.after(() => agent.destroy());
  return agent;
}

/**
 * One request; a connection failure is answered as status 0 with the error as body. With
 * `retryReused`, a GET that fails on a reused keep-alive connection before any answer is sent
 * again once, as browsers and most HTTP clients do (RFC 9112 §9.3.1): a proxy that reloads closes
 * its idle keep-alive connections, which races with a client sending on one.
 */
export function request(
  url: string,
  agent: http.Agent | false,
  headers: Record<string, string> = {},
  retryReused = false,
): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (err) => resolve({ status: 0, body: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (retryReused && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
        // On a new connection: the pool may hold more sockets the proxy is closing.
        void request(url, false, headers, false).then((a) => resolve({ ...a, retried: true }));
      } else {
        resolve({ status: 0, body: err.message });
      }
    });
  });
}

/** `total` requests, `concurrency` at a time; `headersOf(i)` gives request i's headers. */
export async function load(
  url: string,
  agent: http.Agent,
  total: number,
  concurrency: number,
  headersOf: (i: number) => Record<string, string> = () => ({}),
  retryReused = false,
): Promise<Answer[]> {
  const answers = new Array<Answer>(total);
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      answers[i] = await request(url, agent, headersOf(i), retryReused);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return answers;
}

/** Requests `concurrency` at a time for as long as `keepGoing(answered so far)` says so. */
export async function loadWhile(
  url: string,
  agent: http.Agent,
  concurrency: number,
  keepGoing: (answered: number) => boolean,
  retryReused = false,
): Promise<Answer[]> {
  const answers: Answer[] = [];
  const worker = async () => {
    while (keepGoing(answers.length)) answers.push(await request(url, agent, {}, retryReused));
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answers;
}

/** How many answers each body (upstream name) got, plus `status:N` entries for non-200s. */
export function tally(answers: Answer[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers) {
    const k = a.status === 200 ? a.body : `status:${a.status}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
