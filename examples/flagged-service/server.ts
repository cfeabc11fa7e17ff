/**
 * A service that evaluates a Sluice flag in its own process (`sluice/openfeature`) and reports the
 * outcome of every request it serves through OpenFeature's tracking API, so the flag's contract
 * (`evidence: sdk`) is judged on what the application saw, behind any router: HAProxy, NGINX, a
 * cloud load balancer, or none of Sluice's.
 *
 * Per request: the context is the `x-user-id` header as the targetingKey; FLAG (default
 * new-checkout) is evaluated; a request served with the flag on fails at FAIL_RATE_WHEN_ON (spread
 * evenly, as examples/service does) and is EXTRA_LATENCY_MS_WHEN_ON slower; then
 * `client.track('request', context, { value: ms, status })`. The answer carries the variant in
 * `x-sluice-flag-<key>`.
 *
 * Run: PORT=8081 SLUICE_URL=http://127.0.0.1:7070 SLUICE_SDK_TOKEN_FILE=./sdk.token node server.ts
 * The token is read from a file (sluice token create --role sdk --env ENV), never from the spec.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { OpenFeature } from '@openfeature/server-sdk';
import { SluiceProvider } from 'sluice/openfeature';

function setting(name: string, fallback: number, max: number): number {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > max) {
    process.stderr.write(`examples/flagged-service/server.ts: ${name}="${text}" is not a number from 0 to ${max}\n`);
    process.exit(2);
  }
  return value;
}

const port = setting('PORT', 0, 65535);
const version = process.env.SLUICE_VERSION || 'dev';
const flag = process.env.FLAG || 'new-checkout';
const failRate = setting('FAIL_RATE_WHEN_ON', 0, 1);
const extraMs = setting('EXTRA_LATENCY_MS_WHEN_ON', 0, 600_000);
const url = process.env.SLUICE_URL;
const tokenFile = process.env.SLUICE_SDK_TOKEN_FILE;
if (url === undefined || tokenFile === undefined) {
  process.stderr.write('examples/flagged-service/server.ts: set SLUICE_URL and SLUICE_SDK_TOKEN_FILE\n');
  process.exit(2);
}

// Start serving at once: until the first set arrives every evaluation gives the fallback (off).
void OpenFeature.setProviderAndWait(
  new SluiceProvider({
    url,
    token: readFileSync(tokenFile, 'utf8').trim(),
    reportIntervalMs: setting('REPORT_INTERVAL_MS', 1000, 60_000),
  }),
).catch((err: Error) => process.stderr.write(`flags: ${err.message}\n`));
const client = OpenFeature.getClient();

let onRequests = 0;
const server = http.createServer((req, res) => {
  req.resume();
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  const started = performance.now();
  const user = req.headers['x-user-id'];
  const context = { targetingKey: typeof user === 'string' ? user : 'anonymous' };
  void client.getBooleanDetails(flag, false, context).then((d) => {
    const on = d.value;
    let status = 200;
    if (on) {
      onRequests += 1;
      if (Math.floor(onRequests * failRate) > Math.floor((onRequests - 1) * failRate)) status = 500;
    }
    setTimeout(
      () => {
        const body = JSON.stringify({ version, [flag]: d.variant ?? (on ? 'on' : 'off') });
        res.writeHead(status, { 'content-type': 'application/json', [`x-sluice-flag-${flag}`]: d.variant ?? '' });
        res.end(body);
        client.track('request', context, { value: performance.now() - started, status });
      },
      2 + (on ? extraMs : 0),
    );
  });
});

server.listen(port, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(
    `listening on http://127.0.0.1:${typeof a === 'object' && a ? a.port : port} version ${version}\n`,
  );
});
const stop = () => {
  server.close(() => void OpenFeature.close().then(() => process.exit(0)));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
