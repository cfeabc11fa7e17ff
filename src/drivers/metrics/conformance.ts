/**
 * The metrics provider conformance suite: what every MetricsProvider must do with what its
 * source answers, checked against real sources (the built-in proxy with real traffic, a real
 * Prometheus, a real HTTP endpoint). A provider fetches and never judges: a value is a value (a
 * real 0 too), nothing measured is "no data" (never 0), and a source that is down, answers an
 * error, answers nonsense or is too slow is an error naming the source, within its timeout; a read
 * never rejects. A driver's test calls `metricsConformance(name, makeMetrics, skips)`; cases it
 * cannot meet are skipped by name, with the reason shown in the test report.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import type { QueryResult } from './types.ts';

/** One reading of a metric, whatever the provider's API (a query's value, a revision's figures). */
export type Reading = QueryResult;

/** What the source holds when a case reads from it. */
export type Scenario =
  | { kind: 'value'; value: number }
  /** Nothing measured: an empty series, a revision with no request. */
  | { kind: 'empty' }
  /** Nothing listens where the provider reads. */
  | { kind: 'down' }
  /** The source answers this HTTP status. */
  | { kind: 'httpError'; status: number }
  /** The source answers 200 with a body that is not a metric (HTML, JSON of another shape). */
  | { kind: 'wrongShape' }
  /** The source accepts the request and answers only after `delayMs`. */
  | { kind: 'slow'; delayMs: number };

export interface MetricsUnderTest {
  /** One reading of the metric the scenario set up. */
  read(): Promise<Reading>;
  /** Text an error about the source must contain: its address, URL or where its admin API is found. */
  source: string;
  /** The provider's own time budget for one read. */
  timeoutMs: number;
}

/** Makes a provider reading from a fresh source in `scenario`; registers its own cleanup on `t`. */
export type MakeMetrics = (t: TestContext, scenario: Scenario) => Promise<MetricsUnderTest>;

export const METRICS_CASES = [
  'a value is read as that value',
  'a real 0 is a value, not no data',
  'nothing measured is no data, never 0',
  'an unreachable source is an error naming it',
  'an HTTP error answer is an error naming the status',
  'an answer of the wrong shape is an error, never a value',
  'a source slower than the timeout is an error within the timeout',
] as const;
export type MetricsCase = (typeof METRICS_CASES)[number];

/** How long past its timeout a read may take to settle on a loaded machine. */
const SLACK_MS = 3000;

/** The reading, which must resolve (never reject) within the provider's timeout and the slack. */
async function settle(m: MetricsUnderTest): Promise<{ reading: Reading; ms: number }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the read did not settle within ${m.timeoutMs + SLACK_MS} ms`)),
      m.timeoutMs + SLACK_MS,
    );
  });
  try {
    const reading = await Promise.race([m.read(), late]);
    return { reading, ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

function errorOf(reading: Reading): string {
  assert.equal(reading.kind, 'error', `expected an error, got ${JSON.stringify(reading)}`);
  return (reading as { message: string }).message;
}

const cases: Record<MetricsCase, (t: TestContext, make: MakeMetrics) => Promise<void>> = {
  async 'a value is read as that value'(t, make) {
    const { reading } = await settle(await make(t, { kind: 'value', value: 0.25 }));
    assert.deepEqual(reading, { kind: 'value', value: 0.25 });
  },

  async 'a real 0 is a value, not no data'(t, make) {
    const { reading } = await settle(await make(t, { kind: 'value', value: 0 }));
    assert.deepEqual(reading, { kind: 'value', value: 0 });
  },

  async 'nothing measured is no data, never 0'(t, make) {
    const { reading } = await settle(await make(t, { kind: 'empty' }));
    assert.deepEqual(reading, { kind: 'noData' });
  },

  async 'an unreachable source is an error naming it'(t, make) {
    const m = await make(t, { kind: 'down' });
    const message = errorOf((await settle(m)).reading);
    assert.ok(message.includes(m.source), `"${message}" names ${m.source}`);
  },

  async 'an HTTP error answer is an error naming the status'(t, make) {
    const m = await make(t, { kind: 'httpError', status: 503 });
    const message = errorOf((await settle(m)).reading);
    assert.match(message, /\b503\b/);
  },

  async 'an answer of the wrong shape is an error, never a value'(t, make) {
    const m = await make(t, { kind: 'wrongShape' });
    errorOf((await settle(m)).reading);
  },

  async 'a source slower than the timeout is an error within the timeout'(t, make) {
    const probe = await make(t, { kind: 'slow', delayMs: 60_000 });
    const { reading, ms } = await settle(probe);
    errorOf(reading);
    assert.ok(
      ms >= probe.timeoutMs * 0.8,
      `gave up after ${Math.round(ms)} ms, before its ${probe.timeoutMs} ms timeout`,
    );
  },
};

export function metricsConformance(
  name: string,
  make: MakeMetrics,
  skips: Partial<Record<MetricsCase, string>> = {},
): void {
  describe(`metrics conformance: ${name}`, () => {
    for (const title of METRICS_CASES) {
      const reason = skips[title];
      if (reason !== undefined) test(title, { skip: reason }, () => {});
      else test(title, { timeout: 60_000 }, (t) => cases[title](t, make));
    }
  });
}

/**
 * A real HTTP source on a loopback port, answering per scenario: `answer(req, res)` for a value,
 * no data or the wrong shape; the status for `httpError`; nothing until `delayMs` for `slow`.
 * Closed (its sockets too) when the test ends.
 */
export async function httpSource(t: TestContext, scenario: Scenario, answer: http.RequestListener): Promise<string> {
  const server = http.createServer((req, res) => {
    if (scenario.kind === 'httpError')
      return void res.writeHead(scenario.status, { 'content-type': 'text/html' }).end('<html>unavailable</html>');
    if (scenario.kind === 'slow') {
      const timer = setTimeout(() => answer(req, res), scenario.delayMs);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    answer(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
