/**
 * The demo service Sluice releases. Its behaviour comes from the environment, so changing a
 * variable in the spec is a release: FAIL_RATE makes a version error-prone, EXTRA_LATENCY_MS
 * makes it slow, CRASH_AFTER_MS makes it die; FAIL_AFTER_MS starts the failures that long after start
 * (a version that goes bad mid-step) and FAIL_STATUS picks their status (default 500; 404 for a
 * misconfiguration only a 4xx rule sees); FAIL_VERSIONS="2.0.0,3.1.0" makes only those versions fail (at FAIL_RATE,
 * default 0.5), so one spec can name a broken version, as a release train does; FAIL_WHEN_HEADER="name: value" fails
 * only requests carrying that header (a feature flag's variant, e.g. "x-sluice-flag-new-checkout: on"), and
 * SLOW_WHEN_HEADER="name: value" adds EXTRA_LATENCY_MS only to requests carrying that header.
 * Run: PORT=8081 SLUICE_VERSION=1.0.0 node server.ts
 * (PORT 0 or unset picks a free port; the chosen address is printed on stdout).
 */
import http from 'node:http';

interface Settings {
  port: number;
  version: string;
  instance: string;
  failRate: number;
  /** Failures start this long after the process started (0: from the first request). */
  failAfterMs: number;
  failStatus: number;
  /** Only requests with this header value fail (null: any request). */
  failWhen: { header: string; value: string } | null;
  latencyMs: number;
  /** EXTRA_LATENCY_MS only for requests with this header value (null: for every request). */
  slowWhen: { header: string; value: string } | null;
  extraLatencyMs: number;
  crashAfterMs: number | null;
}

/** How long in-flight requests may take to finish after SIGTERM before their sockets are cut. */
const SHUTDOWN_GRACE_MS = 5000;

class SettingsError extends Error {}

function numberFrom(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
  valid: string,
): number {
  const text = env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new SettingsError(`examples/service/server.ts: ${name}="${text}" is not valid; write ${valid}`);
  }
  return value;
}

function statusFrom(env: NodeJS.ProcessEnv): number {
  const status = numberFrom(env, 'FAIL_STATUS', 500, 400, 599, 'an HTTP status from 400 to 599, e.g. 503 or 404');
  if (!Number.isInteger(status))
    throw new SettingsError(`examples/service/server.ts: FAIL_STATUS="${env.FAIL_STATUS}" is not a whole number`);
  return status;
}

/** FAIL_RATE, or with FAIL_VERSIONS set: FAIL_RATE (default 0.5) for the versions listed, 0 for the others. */
function failRateOf(env: NodeJS.ProcessEnv): number {
  const listed = env.FAIL_VERSIONS?.split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (listed === undefined || listed.length === 0)
    return numberFrom(env, 'FAIL_RATE', 0, 0, 1, 'a fraction from 0 to 1, e.g. 0.1');
  const version = env.SLUICE_VERSION || env.VERSION || 'dev';
  return listed.includes(version) ? numberFrom(env, 'FAIL_RATE', 0.5, 0, 1, 'a fraction from 0 to 1, e.g. 0.1') : 0;
}

function headerFrom(env: NodeJS.ProcessEnv, name: 'FAIL_WHEN_HEADER' | 'SLOW_WHEN_HEADER'): Settings['failWhen'] {
  const text = env[name];
  if (text === undefined || text.trim() === '') return null;
  const m = /^([A-Za-z0-9-]+):\s*(.+)$/.exec(text.trim());
  if (m === null)
    throw new SettingsError(
      `examples/service/server.ts: ${name}="${text}" is not "name: value", e.g. "x-sluice-flag-new-checkout: on"`,
    );
  return { header: m[1]!.toLowerCase(), value: m[2]! };
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const port = numberFrom(env, 'PORT', 0, 0, 65535, 'a port number from 0 to 65535');
  if (!Number.isInteger(port))
    throw new SettingsError(`examples/service/server.ts: PORT="${env.PORT}" is not a whole number`);
  const extra = numberFrom(env, 'EXTRA_LATENCY_MS', 0, 0, 600_000, 'milliseconds from 0 to 600000');
  const base = numberFrom(env, 'BASE_LATENCY_MS', 2, 0, 600_000, 'milliseconds from 0 to 600000');
  const crash = numberFrom(env, 'CRASH_AFTER_MS', -1, 0, 86_400_000, 'milliseconds from 0 to 86400000');
  return {
    port,
    version: env.SLUICE_VERSION || env.VERSION || 'dev',
    instance: env.SLUICE_INSTANCE || `pid-${process.pid}`,
    failRate: failRateOf(env),
    failAfterMs: numberFrom(env, 'FAIL_AFTER_MS', 0, 0, 86_400_000, 'milliseconds from 0 to 86400000'),
    failStatus: statusFrom(env),
    failWhen: headerFrom(env, 'FAIL_WHEN_HEADER'),
    slowWhen: headerFrom(env, 'SLOW_WHEN_HEADER'),
    latencyMs: env.SLOW_WHEN_HEADER?.trim() ? base : base + extra,
    extraLatencyMs: env.SLOW_WHEN_HEADER?.trim() ? extra : 0,
    crashAfterMs: crash < 0 ? null : crash,
  };
}

/**
 * Spreads failures evenly instead of drawing them at random: request n fails when ⌊n·rate⌋
 * steps up, so any run of 1/rate requests holds exactly one failure and the error rate the
 * rollback contract sees is steady from the first window on.
 */
function failureSchedule(rate: number): () => boolean {
  let n = 0;
  return () => {
    n += 1;
    return Math.floor(n * rate) > Math.floor((n - 1) * rate);
  };
}

function send(res: http.ServerResponse, status: number, body: unknown, version: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-version': version,
  });
  res.end(text);
}

function createService(settings: Settings): { server: http.Server; draining: () => void; inflight: () => number } {
  const shouldFail = failureSchedule(settings.failRate);
  const failFrom = Date.now() + settings.failAfterMs;
  let draining = false;
  let inflight = 0;

  const server = http.createServer((req, res) => {
    // Once draining, answer with Connection: close so keep-alive clients move elsewhere.
    if (draining) res.setHeader('connection', 'close');
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    req.resume();
    if (req.method === 'GET' && path === '/healthz') {
      // Readiness stays fast and healthy: it says the process is up, not that the version is good.
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
      res.end('ok');
      return;
    }
    inflight += 1;
    const when = settings.failWhen;
    const fail = Date.now() >= failFrom && (when === null || req.headers[when.header] === when.value) && shouldFail();
    const answer = () => {
      inflight -= 1;
      if (draining) res.setHeader('connection', 'close');
      if (fail)
        send(res, settings.failStatus, { error: 'injected failure', version: settings.version }, settings.version);
      else send(res, 200, { version: settings.version, path, instance: settings.instance }, settings.version);
    };
    // A plain timer, no random jitter: two healthy versions then show the same latency profile.
    const slow = settings.slowWhen;
    const latencyMs =
      settings.latencyMs + (slow !== null && req.headers[slow.header] === slow.value ? settings.extraLatencyMs : 0);
    if (latencyMs > 0) setTimeout(answer, latencyMs);
    else answer();
  });

  return {
    server,
    draining: () => {
      draining = true;
    },
    inflight: () => inflight,
  };
}

function main(): void {
  let settings: Settings;
  try {
    settings = readSettings(process.env);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }

  const { server, draining, inflight } = createService(settings);
  let crashTimer: NodeJS.Timeout | undefined;

  server.on('error', (err) => {
    process.stderr.write(`examples/service/server.ts: cannot listen on 127.0.0.1:${settings.port}: ${err.message}\n`);
    process.exit(1);
  });

  server.listen(settings.port, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : settings.port;
    process.stdout.write(
      `listening on http://127.0.0.1:${port} version ${settings.version} instance ${settings.instance}\n`,
    );
    if (settings.crashAfterMs !== null) {
      crashTimer = setTimeout(() => {
        process.stderr.write(`crashing on purpose after CRASH_AFTER_MS=${settings.crashAfterMs}\n`);
        process.exit(1);
      }, settings.crashAfterMs);
    }
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    clearTimeout(crashTimer);
    draining();
    process.stdout.write(`${signal}: draining ${inflight()} in-flight requests\n`);
    // close() stops accepting and calls back once every connection has ended.
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => {
      process.stderr.write(`grace period over: closing ${inflight()} unfinished requests\n`);
      server.closeAllConnections();
      process.exit(0);
    }, SHUTDOWN_GRACE_MS).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main();
