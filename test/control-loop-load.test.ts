/**
 * End to end: nothing the API accepts can delay a rollback. While viewers post huge lint texts,
 * 300 clients replay the event log from the start and another service's metrics backend answers
 * slowly and hugely, a canary failing every request is still reverted within 2 s of its first
 * failing request. Real server, real processes, real traffic. Reports the revert time and the
 * server's peak RSS during the replays.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { revertAfterFirstFailure, startLoad } from './support/load.ts';
import { deployedServer, freePort, serviceSpec, type SluiceServer } from './support/sluice.ts';

const CONTRACT = `    interval: 5s
    window: 10s
    minSamples: 20
    rules:
      - { metric: error_rate, failIf: { above: baseline, by: 0.02 } }`;

const SSE_CLIENTS = 300;
const LOG_EVENTS = 3_000;

/** A metrics backend: /huge streams up to 300 MB of JSON as fast as it is read; /slow answers after 8 s. */
async function hostileMetricsBackend(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const chunk = Buffer.alloc(1024 * 1024, 'x');
  const server = http.createServer((req, res) => {
    hits++;
    res.on('error', () => undefined);
    if (req.url?.startsWith('/slow')) {
      const timer = setTimeout(
        () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"value": 1}'),
        8_000,
      );
      res.on('close', () => clearTimeout(timer));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"value": 1, "pad": "');
    let sent = 0;
    const more = () => {
      while (sent < 300 && !res.destroyed) {
        sent++;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end('"}');
    };
    more();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A second service measured by the hostile backend, with a release in progress (so it is queried every 250 ms). */
async function ledgerOnHostileMetrics(server: SluiceServer, backend: string): Promise<void> {
  const listenPort = await freePort();
  const contract = `    interval: 250ms
    window: 5s
    metricsErrors: { limit: 10000 }
    rules:
      - { name: huge, query: "/huge | $.value", failIf: { above: 100 } }
      - { name: slow, query: "/slow | $.value", failIf: { above: 100 } }`;
  const spec = (version: string) =>
    serviceSpec({
      name: 'ledger',
      version,
      listenPort,
      instances: 1,
      steps: ['setWeight: 20', 'pause: {}'],
      contract,
    }).replace('  strategy:', `  metrics: { provider: web, address: "${backend}", timeout: 10s }\n  strategy:`);
  await server.apply(spec('1.0.0'));
  await server.waitForPhase('Healthy', 30_000, 'ledger');
  await server.apply(spec('2.0.0'));
  await server.waitFor(
    (s) => s.release?.toVersion === '2.0.0' && ['Progressing', 'Paused'].includes(s.release.status),
    'ledger releasing',
    30_000,
    'ledger',
  );
}

/** Grow the log to `n` events with signals (each is one event). */
async function growLog(server: SluiceServer, n: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const r = await server.api('POST', '/api/services/ledger/signals', { signal: 'filler', detail: 'x'.repeat(200) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/** Viewers posting lint texts past the limits, back to back, until stopped. */
function lintFlood(url: string, token: string): { stop: () => Promise<Record<number, number>> } {
  const texts = [
    // 3.4 MB, one mapping of 200,000 keys: the text that held the server 30 s.
    `apiVersion: sluice.dev/v1alpha1\nkind: Service\nspec:\n${Array.from({ length: 200_000 }, (_, i) => `  k${i}: 1`).join('\n')}\n`,
    // 250 KB within the size limit, 490 keys per mapping: read in the worker, refused for its keys in all.
    Array.from(
      { length: 40 },
      (_, j) => `m${j}:\n${Array.from({ length: 490 }, (_, i) => `  k${i}: 1`).join('\n')}`,
    ).join('\n'),
    `a: ${'['.repeat(5_000)}${']'.repeat(5_000)}\n`,
  ];
  const statuses: Record<number, number> = {};
  let stopped = false;
  const loop = async (i: number) => {
    while (!stopped) {
      const res = await fetch(`${url}/api/lint`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ spec: texts[i++ % texts.length], file: 'huge.yaml' }),
      }).catch(() => null);
      if (res) {
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        await res.arrayBuffer();
      }
    }
  };
  const loops = Array.from({ length: 4 }, (_, i) => loop(i));
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      return statuses;
    },
  };
}

/** Clients reading /api/events?after=0 to the end; returns the bytes each read. */
function replayClients(url: string, token: string, n: number): { bytes: () => number; stop: () => void } {
  const abort = new AbortController();
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    void fetch(`${url}/api/events?after=0`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal })
      .then(async (res) => {
        for await (const chunk of res.body!) bytes += (chunk as Uint8Array).byteLength;
      })
      .catch(() => undefined);
  }
  return { bytes: () => bytes, stop: () => abort.abort() };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

test(
  'a failing canary is reverted within 2 s while huge lints, 300 replaying clients and a hostile metrics backend load the server',
  { timeout: 120_000 },
  async (t) => {
    const backend = await hostileMetricsBackend();
    t.after(() => backend.close());
    const { server, listenPort } = await deployedServer(t, { contract: CONTRACT });
    const pid = (JSON.parse(readFileSync(join(server.dataDir, 'server.json'), 'utf8')) as { pid: number }).pid;
    await ledgerOnHostileMetrics(server, backend.url);
    await growLog(server, LOG_EVENTS);
    const viewer = await server.createToken('viewer', 'curious-viewer');

    const load = startLoad({ url: `http://127.0.0.1:${listenPort}/`, rps: 200, durationMs: 60_000 });
    t.after(() => load.stop());
    let peakRss = rssMb(pid);
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(pid))), 100);
    t.after(() => clearInterval(sampler));
    const lints = lintFlood(server.url, viewer);
    const replays = replayClients(server.url, viewer, SSE_CLIENTS);
    t.after(() => replays.stop());
    await new Promise((r) => setTimeout(r, 1000)); // the load builds up; the baseline's traffic flows

    await server.apply(
      serviceSpec({
        version: '2.0.0',
        listenPort,
        env: { FAIL_RATE: '1' },
        steps: ['setWeight: 20', 'pause: {}'],
        contract: CONTRACT,
      }),
    );
    const rolledBack = await server.waitFor(
      (s) => s.release?.toVersion === '2.0.0' && s.lastRollback?.trafficRevertedAt != null,
      'rolled back',
      30_000,
    );
    await new Promise((r) => setTimeout(r, 300));
    const report = await load.stop();
    const lintStatuses = await lints.stop();
    const replayedMb = replays.bytes() / 1024 / 1024;
    replays.stop();
    clearInterval(sampler);

    const rb = rolledBack.lastRollback!;
    assert.equal(rb.trigger, 'error_rate');
    const { revertMs, failedBefore, failures } = revertAfterFirstFailure(
      report.samples,
      '2.0.0',
      rb.trafficRevertedAt!,
    );
    assert.ok(failures.length > 0, 'the canary failed requests');
    t.diagnostic(
      `revertMs ${Math.round(revertMs)}, ${failedBefore} failed canary requests; server peak RSS ${Math.round(peakRss)} MB; ${SSE_CLIENTS} clients read ${Math.round(replayedMb)} MB of replay; lint answers ${JSON.stringify(lintStatuses)}; metrics backend hit ${backend.hits()} times`,
    );

    assert.ok(
      revertMs >= 0 && revertMs < 2_000,
      `all traffic back on stable ${Math.round(revertMs)} ms after the first failing request`,
    );
    // The load really ran: lints were answered (refused as too large), replays and metrics queries flowed.
    assert.ok((lintStatuses[413] ?? 0) >= 3, `lint answers ${JSON.stringify(lintStatuses)}`);
    assert.ok(replayedMb > 1, `the replaying clients read ${replayedMb.toFixed(1)} MB`);
    assert.ok(backend.hits() >= 2, `the hostile metrics backend was queried ${backend.hits()} times`);
    assert.ok(peakRss < 600, `server peak RSS ${Math.round(peakRss)} MB`);
  },
);
