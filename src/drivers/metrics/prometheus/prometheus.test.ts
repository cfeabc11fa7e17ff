import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { QueryResult } from '../../../core/types.ts';
import { freePort } from '../../free-port.ts';
import { waitFor } from '../../targets/fixtures/wait-for.ts';
import { fillQuery } from '../query-template.ts';
import { startCounterService, type CounterService } from './fixtures/counter-service.ts';
import { startPrometheus, type PrometheusServer } from './fixtures/prometheus-server.ts';
import { prometheusMetrics, prometheusQueryEscape } from './index.ts';
import { withoutServer } from '../../../../test/support/servers.ts';

describe('prometheus provider', { skip: withoutServer('prometheus', 'prometheus') }, () => {
  const logs: string[] = [];
  const ctx = { service: 'checkout', serviceDir: '/nonexistent', log: (_l: string, m: string) => void logs.push(m) };
  const provider = (config: Record<string, unknown>) =>
    prometheusMetrics.create(prometheusMetrics.config.parse({ provider: 'prometheus', ...config }), ctx);
  const fill = (template: string, version: string, windowMs = 5000) =>
    fillQuery(template, { version, service: 'checkout', windowMs }, prometheusQueryEscape);

  const TOTAL = 'sum(http_requests_total{service="${service}",version="${version}"})';
  const ERROR_RATIO = 'sum(http_requests_total{service="${service}",version="${version}",code=~"5.."}) / ' + TOTAL;
  const RATE = 'sum(rate(http_requests_total{service="${service}",version="${version}"}[${window}]))';

  describe('prometheus metrics provider, against a real Prometheus', { timeout: 90_000 }, () => {
    let prom: PrometheusServer;
    let service: CounterService;
    let ticker: NodeJS.Timeout;

    before(async () => {
      service = await startCounterService();
      service.set({ service: 'checkout', version: '1.0.0', code: '200' }, 900);
      service.set({ service: 'checkout', version: '1.0.0', code: '500' }, 100);
      // 2.0.0 grows by 10 requests every 100 ms: about 100 requests/s.
      let grown = 0;
      ticker = setInterval(
        () => service.set({ service: 'checkout', version: '2.0.0', code: '200' }, (grown += 10)),
        100,
      );
      prom = await startPrometheus([service.target]);
      const p = provider({ address: prom.url });
      // rate() divides by the whole window: a series younger than the window reads low, so wait
      // until the 5 s window is full of 1 s scrapes.
      await waitFor(
        'a full 5 s window of scrapes in Prometheus',
        async () => {
          const r = await p.query!(`count_over_time(http_requests_total{version="2.0.0"}[5s])`, 5000);
          return r.kind === 'value' && r.value >= 5;
        },
        30_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${prom.output()}`);
      });
    });

    after(async () => {
      clearInterval(ticker);
      await prom?.stop();
      await service?.close();
    });

    test('a query rule gets the value of its one series', async () => {
      const p = provider({ address: prom.url });
      assert.deepEqual(await p.query!(fill(TOTAL, '1.0.0'), 5000), { kind: 'value', value: 1000 });
      assert.deepEqual(await p.query!(fill(ERROR_RATIO, '1.0.0'), 5000), { kind: 'value', value: 0.1 });
      assert.deepEqual(await p.query!('scalar(' + fill(TOTAL, '1.0.0') + ') * 2', 5000), {
        kind: 'value',
        value: 2000,
      });
    });

    test('${window} becomes a PromQL range: rate over the rule window', async () => {
      const r = await provider({ address: prom.url }).query!(fill(RATE, '2.0.0', 5000), 5000);
      assert.equal(r.kind, 'value');
      const value = (r as { value: number }).value;
      assert.ok(value > 40 && value < 200, `rate ≈ 100/s, got ${value}`);
      // A counter that does not move has a real rate of 0: a value, not "no data".
      assert.deepEqual(await provider({ address: prom.url }).query!(fill(RATE, '1.0.0', 5000), 5000), {
        kind: 'value',
        value: 0,
      });
    });

    test('an unknown version is noData, never 0; so is NaN (0/0)', async () => {
      const p = provider({ address: prom.url });
      assert.deepEqual(await p.query!(fill(TOTAL, '9.9.9'), 5000), { kind: 'noData' });
      assert.deepEqual(await p.query!(fill(ERROR_RATIO, '9.9.9'), 5000), { kind: 'noData' });
      assert.deepEqual(await p.query!('vector(0) / vector(0)', 5000), { kind: 'noData' });
    });

    test('a query Prometheus rejects, or one with several series, is an error naming why', async () => {
      const p = provider({ address: prom.url });
      const bad = await p.query!('sum(http_requests_total{', 5000);
      assert.equal(bad.kind, 'error');
      assert.match(
        (bad as { message: string }).message,
        /service "checkout".*Prometheus rejected query .*HTTP 400.*bad_data/,
      );
      const many = await p.query!('http_requests_total{version="1.0.0"}', 5000);
      assert.equal(many.kind, 'error');
      assert.match((many as { message: string }).message, /returned 2 series .*aggregate them/);
      const range = await p.query!('http_requests_total{code="500"}[1m]', 5000);
      assert.match((range as { message: string }).message, /returned a matrix/);
    });

    test('collect is honest about not knowing revision keys: noData', async () => {
      assert.deepEqual(await provider({ address: prom.url }).collect(['1', '2'], 5000), {
        '1': { kind: 'noData' },
        '2': { kind: 'noData' },
      });
    });
  });

  describe('prometheus metrics provider, when Prometheus is away', { timeout: 20_000 }, () => {
    test('a dead address is an error measurement', async () => {
      const port = await freePort();
      const r = await provider({ address: `http://127.0.0.1:${port}` }).query!('up', 1000);
      assert.equal(r.kind, 'error');
      assert.match(
        (r as { message: string }).message,
        /GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query\?query=up.* failed: ECONNREFUSED/,
      );
    });

    test('a server that never answers is an error after the timeout, not a hang', async (t) => {
      const hanging = http.createServer(() => {});
      await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
      t.after(
        () =>
          new Promise((resolve) => {
            hanging.closeAllConnections();
            hanging.close(() => resolve(undefined));
          }),
      );
      const address = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
      const began = Date.now();
      const r: QueryResult = await provider({ address, timeout: '300ms' }).query!('up', 1000);
      const elapsed = Date.now() - began;
      assert.equal(r.kind, 'error');
      assert.match((r as { message: string }).message, /no answer within 300 ms/);
      assert.ok(elapsed >= 290 && elapsed < 2000, `gave up after the timeout (${elapsed} ms)`);
    });

    test('config: address must be http(s); unknown fields are rejected', () => {
      assert.throws(
        () => prometheusMetrics.config.parse({ provider: 'prometheus', address: 'localhost:9090' }),
        /http\(s\) URL/,
      );
      assert.throws(
        () => prometheusMetrics.config.parse({ provider: 'prometheus', address: 'http://x', query: 'up' }),
        /query/,
      );
      const c = prometheusMetrics.config.parse({
        provider: 'prometheus',
        address: 'http://x:9090',
        headers: { Authorization: { secretEnv: 'PROM_AUTH' } },
      });
      assert.deepEqual(c, {
        provider: 'prometheus',
        address: 'http://x:9090',
        timeout: 5000,
        headers: { Authorization: { secretEnv: 'PROM_AUTH' } },
      });
      // A literal credential is refused, naming the header and the reference form.
      assert.throws(
        () =>
          prometheusMetrics.config.parse({
            provider: 'prometheus',
            address: 'http://x:9090',
            headers: { Authorization: 'Bearer t' },
          }),
        /literal secret \(header Authorization\).*secretEnv/,
      );
    });
  });
});
