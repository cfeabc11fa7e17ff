/**
 * Access control against a real server: the admin token made on first start, roles on every
 * route of Fastify's own table, token names as actors, revocation and expiry, the CLI's token
 * flags and commands.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { test } from 'node:test';
import { CLI, deployedServer, ROOT, serviceSpec, type SluiceServer } from './support/sluice.ts';

interface RouteAccess {
  method: string;
  url: string;
  access: string;
}

const call = async (
  server: SluiceServer,
  method: string,
  path: string,
  token: string | null,
  extra: Record<string, string> = {},
) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(token !== null && { authorization: `Bearer ${token}` }),
      ...(method !== 'GET' && method !== 'DELETE' && { 'content-type': 'application/json' }),
      ...extra,
    },
    ...(method !== 'GET' && method !== 'DELETE' && { body: '{}' }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  const json = res.headers.get('content-type')?.startsWith('application/json') === true;
  return {
    status: res.status,
    body: json ? (JSON.parse(text) as { error?: { code: string; message: string } }) : null,
  };
};

/**
 * Who may call each route, written out by hand from docs/access.md, independently of the server's
 * requiredAccess(): a route classified wrongly there (a write open to viewers) fails against this
 * list. A new route fails the test until it is added here, with the role it should need.
 */
const EXPECTED_ACCESS: Record<string, 'public' | 'viewer' | 'deployer' | 'approver' | 'admin' | 'sdk'> = {
  'GET /healthz': 'public',
  'GET /': 'public',
  'GET /*': 'public',
  'GET /api': 'viewer',
  'GET /api/access': 'viewer',
  'GET /api/schema': 'viewer',
  'GET /api/openapi.json': 'viewer',
  'GET /api/whoami': 'viewer',
  'POST /api/lint': 'viewer',
  'GET /api/services': 'viewer',
  'GET /api/services/:name': 'viewer',
  'GET /api/services/:name/history': 'viewer',
  'GET /api/services/:name/revisions': 'viewer',
  'GET /api/services/:name/revisions/:key': 'viewer',
  'GET /api/services/:name/events': 'viewer',
  'GET /api/services/:name/releases/:number': 'viewer',
  'GET /api/services/:name/releases/:number/verdicts': 'viewer',
  'GET /api/services/:name/environments': 'viewer',
  'GET /api/services/:name/diff': 'viewer',
  'GET /api/events': 'viewer',
  'GET /api/graph': 'viewer',
  'GET /api/trains': 'viewer',
  'GET /api/trains/:name': 'viewer',
  'POST /api/trains/:name/abort': 'deployer',
  'POST /api/trains/:name/retry': 'deployer',
  'POST /api/trains/:name/approve': 'approver',
  'POST /api/trains/:name/reject': 'approver',
  'GET /api/audit/verify': 'viewer',
  'GET /api/audit/export': 'viewer',
  'GET /api/calendar': 'viewer',
  'GET /api/postmortems': 'viewer',
  'GET /api/policy': 'viewer',
  'GET /api/server-policy': 'viewer',
  'PUT /api/server-policy': 'admin',
  'POST /api/apply': 'deployer',
  'POST /api/services/:name/signals': 'deployer',
  'POST /api/services/:name/releases': 'deployer',
  'POST /api/services/:name/promote': 'deployer',
  'POST /api/services/:name/pause': 'deployer',
  'POST /api/services/:name/resume': 'deployer',
  'POST /api/services/:name/abort': 'deployer',
  'POST /api/services/:name/retry': 'deployer',
  'POST /api/services/:name/undo': 'deployer',
  'POST /api/services/:name/approve': 'approver',
  'POST /api/services/:name/override': 'approver',
  'DELETE /api/services/:name': 'admin',
  'GET /api/analytics/dora': 'viewer',
  'GET /metrics': 'viewer',
  'GET /api/services/:name/documents/:kind': 'viewer',
  'GET /api/services/:name/storyboard': 'viewer',
  'GET /api/analytics/catalogue': 'viewer',
  'GET /api/reports/weekly': 'viewer',
  'POST /api/analytics/import': 'deployer',
  'POST /api/analytics/incidents': 'deployer',
  'GET /api/gamedays': 'viewer',
  'GET /api/gamedays/:name': 'viewer',
  'POST /api/gamedays/run': 'deployer',
  'POST /api/gamedays/stop': 'deployer',
  'POST /api/gamedays/schedules': 'deployer',
  'DELETE /api/gamedays/schedules/:name': 'deployer',
  'POST /api/gamedays/:name/signoff': 'approver',
  'GET /api/rehearsals': 'viewer',
  'POST /api/rehearsals': 'deployer',
  'GET /api/tokens': 'admin',
  'POST /api/tokens': 'admin',
  'DELETE /api/tokens/:id': 'admin',
  'GET /api/flags': 'viewer',
  'GET /api/flags/stale': 'viewer',
  'GET /api/flags/adoption': 'viewer',
  'GET /api/flags/:name': 'viewer',
  'GET /api/flags/:name/events': 'viewer',
  'GET /api/flags/changes': 'viewer',
  'GET /api/flags/:name/variants': 'viewer',
  'POST /api/flags/:name/percent': 'deployer',
  'POST /api/flags/:name/resume': 'deployer',
  'POST /api/flags/:name/enable': 'deployer',
  'POST /api/flags/:name/disable': 'deployer',
  'POST /api/flags/:name/archive': 'deployer',
  // An application's sdk token only (docs/flags.md): no role of the ladder reads them.
  'POST /ofrep/v1/evaluate/flags/:key': 'sdk',
  'POST /ofrep/v1/evaluate/flags': 'sdk',
  'GET /api/sdk/flags': 'sdk',
  'GET /api/sdk/flags/stream': 'sdk',
  'POST /api/sdk/evaluations': 'sdk',
};
const ROLES = ['viewer', 'deployer', 'approver', 'admin'] as const;

/** The status a route answers `token` with; the body is not read (the event stream never ends). */
async function statusOf(server: SluiceServer, method: string, path: string, token: string): Promise<number> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 10_000);
  const body = method !== 'GET' && method !== 'DELETE';
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body && { 'content-type': 'application/json' }) },
    ...(body && { body: '{}' }),
    signal: abort.signal,
  });
  abort.abort();
  clearTimeout(timer);
  await res.body?.cancel().catch(() => undefined);
  return res.status;
}

/** A concrete URL for a route pattern: every parameter gets a harmless value. */
const concrete = (url: string) => url.replace(/:name/g, 'checkout').replace(/:\w+/g, '1').replace('*', 'x');

function sluice(
  server: SluiceServer,
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: ROOT, env: { ...process.env, SLUICE_SERVER: server.url, SLUICE_TOKEN: '', ...env }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('access control end to end', { timeout: 120_000 }, async (t) => {
  const { server, listenPort } = await deployedServer(t, { instances: 1 });

  await t.test(
    'the first start writes the admin token (mode 600) and prints it once; a restart makes none',
    async () => {
      assert.equal(statSync(`${server.dataDir}/admin.token`).mode & 0o777, 0o600);
      assert.equal(server.log.split(server.adminToken).length - 1, 1, 'printed once');
      await server.kill('SIGTERM');
      await server.restart();
      assert.equal(server.log.split('created the admin token').length - 1, 1, 'not again on restart');
      assert.equal((await call(server, 'GET', '/api/whoami', server.adminToken)).status, 200);
    },
  );

  const viewer = await server.createToken('viewer', 'vera');
  const deployer = await server.createToken('deployer', 'dora');
  const { routes } = (await server.api<{ routes: RouteAccess[] }>('GET', '/api/access')).body;

  await t.test('the route table covers the API; only reads outside /api are open', () => {
    const urls = new Set(routes.map((r) => `${r.method} ${r.url}`));
    for (const r of [
      'POST /api/apply',
      'DELETE /api/services/:name',
      'POST /api/services/:name/promote',
      'POST /api/tokens',
      'GET /api/events',
      'GET /api/audit/verify',
    ])
      assert.ok(urls.has(r), r);
    for (const r of routes)
      if (r.access === 'public')
        assert.ok(!r.url.startsWith('/api') && r.method === 'GET', `${r.method} ${r.url} is public`);
  });

  await t.test('without a token, or with a wrong one, every /api route answers 401; /healthz stays open', async () => {
    for (const r of routes.filter((r) => r.access !== 'public')) {
      const url = concrete(r.url);
      assert.equal((await call(server, r.method, url, null)).status, 401, `${r.method} ${url} without a token`);
      assert.equal(
        (await call(server, r.method, url, 'slu_000000000000_' + 'A'.repeat(43))).status,
        401,
        `${r.method} ${url} with an unknown token`,
      );
    }
    assert.equal((await call(server, 'GET', '/healthz', null)).status, 200);
  });

  await t.test('the routes are exactly those of the hand-written list', () => {
    assert.deepEqual(routes.map((r) => `${r.method} ${r.url}`).sort(), Object.keys(EXPECTED_ACCESS).sort());
  });

  await t.test('each role is refused (403) exactly on the routes the hand-written list puts above it', async () => {
    const tokens = {
      viewer,
      deployer,
      approver: await server.createToken('approver', 'april'),
      admin: server.adminToken,
    };
    const wrong: string[] = [];
    for (const [route, needed] of Object.entries(EXPECTED_ACCESS)) {
      if (needed === 'public') continue;
      const [method, pattern] = route.split(' ') as [string, string];
      // A service and a token that do not exist: an allowed call gets 400 or 404 and changes nothing.
      const url = pattern
        .replace(':name', 'no-such-service')
        .replace(':id', 'no-such-token')
        .replace(/:\w+/g, '1')
        .replace('*', 'x');
      for (const role of ROLES) {
        const allowed = needed !== 'sdk' && ROLES.indexOf(role) >= ROLES.indexOf(needed);
        const status = await statusOf(server, method, url, tokens[role]);
        if (allowed ? status === 401 || status === 403 : status !== 403)
          wrong.push(
            `${method} ${url} as ${role}: ${status}, expected ${allowed ? 'not 401/403' : '403'} (needs ${needed})`,
          );
      }
    }
    assert.deepEqual(wrong, []);
  });

  await t.test('a viewer token gets 403 on every route that needs more, and changes nothing', async () => {
    const needsMore = routes.filter((r) => r.access !== 'public' && r.access !== 'viewer');
    assert.ok(needsMore.length >= 10, `${needsMore.length} mutating routes`);
    for (const r of needsMore) {
      const res = await call(server, r.method, concrete(r.url), viewer);
      assert.equal(res.status, 403, `${r.method} ${concrete(r.url)} with a viewer token`);
      assert.equal(res.body?.error?.code, 'FORBIDDEN');
      assert.match(res.body!.error!.message, new RegExp(`token "vera" has role viewer; .* needs ${r.access} or above`));
    }
    for (const r of routes.filter(
      (r) => r.access === 'viewer' && r.method === 'GET' && !r.url.includes('/events') && !r.url.includes(':'),
    )) {
      assert.equal(
        (await call(server, r.method, r.url, viewer)).status,
        200,
        `${r.method} ${r.url} is readable by a viewer`,
      );
    }
    const status = await server.status();
    assert.equal(status.phase, 'Healthy');
    const events = (await server.api<{ events: { actor: string }[] }>('GET', '/api/services/checkout/events')).body
      .events;
    assert.ok(!events.some((e) => e.actor === 'vera'), 'the viewer caused no event');
  });

  await t.test(
    "a deployer steers releases as itself (the token's name is the actor; X-Sluice-Actor is ignored) but may not delete or mint tokens",
    async () => {
      const paused = await call(server, 'POST', '/api/services/checkout/pause', deployer, {
        'x-sluice-actor': 'someone-else',
      });
      assert.equal(paused.status, 409, 'allowed through (no release to pause: 409 from the engine, not 403)');
      assert.equal((await call(server, 'DELETE', '/api/services/checkout', deployer)).status, 403);
      assert.equal((await call(server, 'POST', '/api/tokens', deployer)).status, 403);
      const apply = await fetch(`${server.url}/api/apply`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${deployer}`,
          'x-sluice-actor': 'someone-else',
          'content-type': 'application/json',
        },
        // The same spec again: no release, but an apply recorded with its actor.
        body: JSON.stringify({
          spec: serviceSpec({ version: '1.0.0', listenPort, instances: 1 }),
          file: 'dora.yaml',
          baseDir: ROOT,
        }),
      });
      assert.equal(apply.status, 200);
      const events = (
        await server.api<{ events: { type: string; actor: string }[] }>('GET', '/api/services/checkout/events')
      ).body.events;
      assert.equal(events.filter((e) => e.type === 'spec.applied').at(-1)!.actor, 'dora');
    },
  );

  await t.test('the event stream takes ?token= (EventSource cannot send headers); no other route does', async () => {
    const abort = new AbortController();
    const res = await fetch(`${server.url}/api/events?service=checkout&after=0&token=${viewer}`, {
      signal: abort.signal,
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    abort.abort();
    await res.body?.cancel().catch(() => undefined);
    assert.equal((await call(server, 'GET', `/api/services?token=${viewer}`, null)).status, 401);
  });

  await t.test('revoked and expired tokens are refused', async () => {
    const short = (
      await server.api<{ token: string; expiresAt: string }>('POST', '/api/tokens', {
        role: 'viewer',
        name: 'brief',
        ttl: '1s',
      })
    ).body;
    assert.equal((await call(server, 'GET', '/api/whoami', short.token)).status, 200);
    const until = Date.now() + 10_000;
    while ((await call(server, 'GET', '/api/whoami', short.token)).status === 200 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal((await call(server, 'GET', '/api/whoami', short.token)).status, 401, 'expired after its ttl');
    assert.equal((await server.api('DELETE', '/api/tokens/vera')).status, 200);
    assert.equal((await call(server, 'GET', '/api/services', viewer)).status, 401, 'revoked');
    const list = (await server.api<{ tokens: { name: string; status: string; hash?: string }[] }>('GET', '/api/tokens'))
      .body.tokens;
    assert.deepEqual(
      list.filter((t) => ['vera', 'brief'].includes(t.name)).map((t) => `${t.name}:${t.status}`),
      ['vera:revoked', 'brief:expired'],
    );
    assert.ok(
      list.every((t) => !('hash' in t)),
      'never the hash',
    );
    // Making and revoking tokens is in the audit trail, with who did it.
    const log = (
      await server.api<{ events: { type: string; service: string; name?: string; actor: string }[] }>(
        'GET',
        '/api/services/_server/events',
      )
    ).status;
    assert.equal(log, 400, 'the server log is not a service');
    const exported = await fetch(`${server.url}/api/audit/export`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    const lines = (await exported.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; service: string; name?: string; actor: string });
    const tokenEvents = lines.filter((e) => e.service === '_server').map((e) => `${e.type}:${e.name}:${e.actor}`);
    assert.ok(tokenEvents.includes('token.created:admin:sluice-server'), tokenEvents.join(', '));
    assert.ok(
      tokenEvents.some((e) => e.startsWith('token.created:vera:')) &&
        tokenEvents.includes('token.revoked:vera:e2e-test'),
      tokenEvents.join(', '),
    );
  });

  await t.test(
    'the CLI: token create prints the token on its last line; --data-dir reads admin.token; none → 401 message',
    async () => {
      const created = await sluice(
        server,
        {},
        'token',
        'create',
        '--role',
        'deployer',
        '--name',
        'ci',
        '--ttl',
        '30d',
        '--data-dir',
        server.dataDir,
      );
      assert.equal(created.code, 0, created.stderr);
      const token = created.stdout.trim().split('\n').at(-1)!;
      assert.match(token, /^slu_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
      const who = await sluice(server, { SLUICE_TOKEN: token }, 'token', 'whoami');
      assert.match(who.stdout, /^ci \(role deployer, token [a-z0-9]{12}, expires 20/);
      const byFlag = await sluice(server, {}, 'token', 'whoami', '--token', token);
      assert.match(byFlag.stdout, /^ci /);
      const list = await sluice(server, { SLUICE_TOKEN: token }, 'token', 'list');
      assert.equal(list.code, 1);
      assert.match(list.stderr, /token "ci" has role deployer; GET \/api\/tokens needs admin or above/);
      const none = await sluice(server, {}, 'status');
      assert.equal(none.code, 1);
      assert.match(none.stderr, /needs a token with role viewer or above/);
      const revoked = await sluice(server, {}, 'token', 'revoke', 'ci', '--data-dir', server.dataDir);
      assert.match(revoked.stdout, /^revoked token [a-z0-9]{12} "ci"/);
    },
  );
});
