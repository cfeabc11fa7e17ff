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

/** A port nothing listens on right now (bound to port 0, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Answer {
  status: number;
  body: string;
}

export function keepAliveClient(t: TestContext, maxSockets = 32): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  t.after(() => agent.destroy());
  return agent;
}

/** One request; a connection failure is answered as status 0 with the error as body. */
export function request(url: string, agent: http.Agent, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (err) => resolve({ status: 0, body: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (err) => resolve({ status: 0, body: err.message }));
  });
}

/** `total` requests, `concurrency` at a time; `headersOf(i)` gives request i's headers. */
export async function load(
  url: string,
  agent: http.Agent,
  total: number,
  concurrency: number,
  headersOf: (i: number) => Record<string, string> = () => ({}),
): Promise<Answer[]> {
  const answers = new Array<Answer>(total);
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      answers[i] = await request(url, agent, headersOf(i));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
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
