import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { QueryResult } from '../../../core/types.ts';
import { freePort } from '../../free-port.ts';
import { fillQuery } from '../query-template.ts';
import { parseWebQuery, webMetrics, webQueryEscape } from './index.ts';

const ctx = { service: 'checkout', serviceDir: '/nonexistent', log: () => {} };
const provider = (config: Record<string, unknown>) =>
  webMetrics.create(webMetrics.config.parse({ provider: 'web', ...config }), ctx);
const messageOf = (r: QueryResult) => (r.kind === 'error' ? r.message : `not an error: ${JSON.stringify(r)}`);

/** A real in-house-style metrics API: /api/v1/metrics?service=&version= answers a series. */
describe('web metrics provider, against a real HTTP endpoint', { timeout: 20_000 }, () => {
  let server: http.Server;
  let address = '';
  const seen: Array<{ url: string; auth: string | undefined }> = [];

  before(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push({ url: req.url ?? '', auth: req.headers.authorization });
      const json = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (url.pathname === '/prefix/api/v1/metrics') {
        const version = url.searchParams.get('version');
        if (version === '1.0.0+build.5')
          return json(200, {
            series: [
              {
                points: [
                  [1, 0.5],
                  [2, 0.02],
                ],
              },
            ],
          });
        if (version === 'strings')
          return json(200, { series: [{ points: [[1, '0.125']] }], nan: 'NaN', word: 'high', flag: true });
        return json(200, { series: [] });
      }
      if (url.pathname === '/prefix/broken') return json(500, { error: 'backend down' });
      if (url.pathname === '/prefix/html')
        return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
      if (url.pathname === '/prefix/hang') return; // never answers
      if (url.pathname === '/prefix/internal')
        return void res
          .writeHead(502, { 'content-type': 'text/html' })
          .end('<html>db-7.internal: password=hunter2</html>');
      if (url.pathname === '/prefix/slow') return void setTimeout(() => json(200, { value: 0.5 }), 1500);
      if (url.pathname === '/prefix/huge') {
        // 64 MiB of JSON, streamed without a length: only reading it would find its end.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"value": 1, "pad": "');
        const chunk = 'x'.repeat(1024 * 1024);
        let sent = 0;
        const more = () => {
          while (sent < 64) {
            sent++;
            if (!res.write(chunk)) return void res.once('drain', more);
          }
          res.end('"}');
        };
        res.on('error', () => undefined);
        return more();
      }
      json(404, { error: 'not found' });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prefix`;
  });
  after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );

  const RULE = '/api/v1/metrics?service=${service}&version=${version} | $.series[0].points[-1][1]';

  process.env.SLUICE_TEST_WEB_AUTH = 'Bearer s3cret';
  after(() => void delete process.env.SLUICE_TEST_WEB_AUTH);

  test('fills the query, GETs it with the configured headers (read from their reference), selects the number', async () => {
    const query = fillQuery(RULE, { version: '1.0.0+build.5', service: 'checkout', windowMs: 30_000 }, webQueryEscape);
    const r = await provider({ address, headers: { Authorization: { secretEnv: 'SLUICE_TEST_WEB_AUTH' } } }).query!(
      query,
      30_000,
    );
    assert.deepEqual(r, { kind: 'value', value: 0.02 });
    assert.deepEqual(seen.at(-1), {
      url: '/prefix/api/v1/metrics?service=checkout&version=1.0.0%2Bbuild.5',
      auth: 'Bearer s3cret',
    });
  });

  test('numeric strings are numbers; an empty series, null or "NaN" is noData', async () => {
    const p = provider({ address });
    assert.deepEqual(await p.query!('/api/v1/metrics?version=strings | $.series[0].points[0][1]', 1000), {
      kind: 'value',
      value: 0.125,
    });
    assert.deepEqual(await p.query!('/api/v1/metrics?version=strings | $.nan', 1000), { kind: 'noData' });
    assert.deepEqual(await p.query!('/api/v1/metrics?version=9.9.9 | $.series[0].points[-1][1]', 1000), {
      kind: 'noData',
    });
  });

  test('a selector that does not fit, or a value that is not a number, is an error saying so', async () => {
    const p = provider({ address });
    assert.match(
      messageOf(await p.query!('/api/v1/metrics?version=strings | $.serie[0]', 1000)),
      /service "checkout": \$\.serie\[0\] in the answer of GET .*: \$ has no field "serie" \(fields: "series", "nan", "word", "flag"\)/,
    );
    assert.match(
      messageOf(await p.query!('/api/v1/metrics?version=strings | $.word', 1000)),
      /\$\.word .* is "high", not a finite number/,
    );
    assert.match(
      messageOf(await p.query!('/api/v1/metrics?version=strings | $.flag', 1000)),
      /is true, not a finite number/,
    );
  });

  test('HTTP errors, non-JSON answers and malformed queries are errors', async () => {
    const p = provider({ address });
    assert.match(
      messageOf(await p.query!('/broken | $.x', 1000)),
      /GET http:\/\/127\.0\.0\.1:\d+\/prefix\/broken answered HTTP 500, application\/json, 24 bytes$/,
    );
    assert.match(
      messageOf(await p.query!('/html | $.x', 1000)),
      /answered HTTP 200, text\/html, 18 bytes, which is not JSON$/,
    );
    assert.match(messageOf(await p.query!('/api/v1/metrics $.x', 1000)), /must be "PATH_OR_URL \| SELECTOR"/);
    assert.match(messageOf(await p.query!('/api/v1/metrics | $.a[', 1000)), /selector \$\.a\[: unexpected "\["/);
  });

  test("an error never copies the remote page's text (events are read by viewers): status, type and length", async () => {
    const message = messageOf(await provider({ address }).query!('/internal | $.x', 1000));
    assert.match(message, /answered HTTP 502, text\/html, 44 bytes, which is not JSON$/);
    assert.doesNotMatch(message, /hunter2|db-7|password/);
  });

  test('an answer past 1 MiB is an error naming the cap, and the transfer is abandoned', async () => {
    const began = Date.now();
    const rss = process.memoryUsage().rss;
    const message = messageOf(await provider({ address }).query!('/huge | $.value', 1000));
    assert.match(message, /answered HTTP 200 with more than 1048576 bytes, the most a metrics answer may have/);
    assert.ok(process.memoryUsage().rss - rss < 32 * 1024 * 1024, 'the 64 MiB answer was not read into memory');
    assert.ok(Date.now() - began < 2000, `gave up after ${Date.now() - began} ms`);
  });

  test('the configured timeout is honoured, also above the rule interval', async () => {
    const { collectObservation } = await import('../../../engine/observe.ts');
    const { emptyState } = await import('../../../core/release/state.ts');
    const rule = { name: 'slow', metric: 'query', query: '/slow | $.value', failIf: { above: 1 } };
    const state = {
      ...emptyState('checkout'),
      release: {
        status: 'Progressing',
        from: { key: '1', version: '1.0.0' },
        to: { key: '2', version: '2.0.0' },
        contract: { windowMs: 5000, intervalMs: 250, rules: [rule] },
      },
    } as unknown as Parameters<typeof collectObservation>[0];
    // The endpoint answers after 1.5 s: over the 250 ms interval and the old 1 s cut, within the 3 s timeout.
    const observation = await collectObservation(state, provider({ address, timeout: '3s' }), Date.now());
    assert.deepEqual(observation.queries?.slow?.canary, { kind: 'value', value: 0.5 });
  });

  test('an absolute URL is fetched as is, without the configured headers unless same origin', async () => {
    const p = provider({
      address: 'http://127.0.0.1:1',
      headers: { Authorization: { secretEnv: 'SLUICE_TEST_WEB_AUTH' } },
    });
    assert.deepEqual(await p.query!(`${address}/api/v1/metrics?version=strings | $.series[0].points[0][1]`, 1000), {
      kind: 'value',
      value: 0.125,
    });
    assert.equal(seen.at(-1)?.auth, undefined);
  });

  test('a hanging endpoint is an error after the timeout; a dead one at once', async () => {
    const began = Date.now();
    assert.match(
      messageOf(await provider({ address, timeout: '300ms' }).query!('/hang | $.x', 1000)),
      /no answer within 300 ms/,
    );
    const elapsed = Date.now() - began;
    assert.ok(elapsed >= 290 && elapsed < 2000, `gave up after the timeout (${elapsed} ms)`);
    const dead = `http://127.0.0.1:${await freePort()}`;
    assert.match(messageOf(await provider({ address: dead }).query!('/x | $.x', 1000)), /failed: ECONNREFUSED/);
  });
});

test('parseWebQuery splits at the first " | $"', () => {
  assert.equal(parseWebQuery('/q?f=a|b | $.x').target, '/q?f=a|b');
  assert.throws(() => parseWebQuery('api/x | $.x'), /neither a path starting with \/ nor an http\(s\) URL/);
});
