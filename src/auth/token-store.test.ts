import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ensureAdminToken } from './admin-token.ts';
import { requiredAccess } from './route-access.ts';
import { roleAllows } from './roles.ts';
import { hashToken } from './token-secret.ts';
import { TokenStore } from './token-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-tokens-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => new TokenStore(join(dir, `t-${++n}.db`));

test('a token is stored only as its hash, authenticates until it expires or is revoked, and survives a reopen', () => {
  const path = join(dir, 'persist.db');
  const tokens = new TokenStore(path);
  const { token, record } = tokens.create({
    name: 'ci',
    role: 'deployer',
    createdBy: 'admin',
    now: 1000,
    ttlMs: 60_000,
  });
  assert.match(token, /^slu_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  assert.equal(record.hash, hashToken(token));
  tokens.close();
  assert.ok(!readFileSync(path).includes(token.split('_')[2]!), 'the secret is not in the file');
  const again = new TokenStore(path);
  assert.deepEqual(again.authenticate(token, 2000), {
    tokenId: record.id,
    name: 'ci',
    role: 'deployer',
    environment: null,
    expiresAt: 61_000,
  });
  assert.equal(again.authenticate(token, 61_000), null, 'expired');
  const forged = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
  assert.equal(again.authenticate(forged, 2000), null, 'right id, wrong secret');
  assert.equal(again.authenticate('not-a-token', 2000), null);
  again.revoke('ci', 3000);
  assert.equal(again.authenticate(token, 3001), null, 'revoked');
  again.close();
});

test('names are unique among live tokens (reusable after revocation); default name <role>-<id>', () => {
  const tokens = fresh();
  tokens.create({ name: 'ci', role: 'deployer', createdBy: 'a', now: 0, ttlMs: null });
  assert.throws(
    () => tokens.create({ name: 'ci', role: 'viewer', createdBy: 'a', now: 0, ttlMs: null }),
    /a live token named "ci" exists/,
  );
  tokens.revoke('ci', 1);
  tokens.create({ name: 'ci', role: 'deployer', createdBy: 'a', now: 2, ttlMs: null });
  const unnamed = tokens.create({ role: 'viewer', createdBy: 'a', now: 0, ttlMs: null }).record;
  assert.equal(unnamed.name, `viewer-${unnamed.id}`);
  assert.throws(() => tokens.revoke('nobody', 0), /no token with id or name "nobody"/);
  tokens.close();
});

test('the last live admin token cannot be revoked', () => {
  const tokens = fresh();
  tokens.create({ name: 'admin', role: 'admin', createdBy: 'x', now: 0, ttlMs: null });
  assert.throws(() => tokens.revoke('admin', 1), /last live admin token/);
  tokens.create({ name: 'ops', role: 'admin', createdBy: 'x', now: 0, ttlMs: null });
  assert.equal(tokens.revoke('admin', 1).revokedAt, 1);
  tokens.close();
});

test('the admin token is made on first start only, in a file of mode 600', () => {
  const data = mkdtempSync(join(dir, 'data-'));
  const tokens = new TokenStore(join(data, 'sluice.db'));
  const token = ensureAdminToken(tokens, data, 0);
  assert.ok(token !== null);
  assert.equal(readFileSync(join(data, 'admin.token'), 'utf8'), `${token}\n`);
  assert.equal(statSync(join(data, 'admin.token')).mode & 0o777, 0o600);
  assert.equal(tokens.authenticate(token, 1)!.role, 'admin');
  assert.equal(ensureAdminToken(tokens, data, 1), null);
  tokens.close();
});

test('roles include the ones before them; unknown routes are closed by default', () => {
  assert.ok(
    roleAllows('admin', 'viewer') &&
      roleAllows('approver', 'deployer') &&
      !roleAllows('deployer', 'approver') &&
      !roleAllows('viewer', 'deployer'),
  );
  assert.equal(requiredAccess('GET', '/healthz', {}), 'public');
  assert.equal(requiredAccess('GET', '/*', {}, '/api/secret'), 'viewer', 'a catch-all cannot open an /api path');
  assert.equal(requiredAccess('POST', '/healthz', {}), 'admin');
  assert.equal(requiredAccess('POST', '/api/services/:name/:command', { command: 'promote' }), 'deployer');
  assert.equal(requiredAccess('POST', '/api/services/:name/approve', {}), 'approver');
  assert.equal(requiredAccess('POST', '/api/services/:name/:command', { command: 'explode' }), 'admin');
  assert.equal(requiredAccess('PUT', '/api/some-new-route', {}), 'admin');
  assert.equal(requiredAccess('GET', '/api/tokens', {}), 'admin');
});

test('an sdk token reads one environment and is outside the ladder: no role includes it, it includes none', () => {
  const tokens = new TokenStore(':memory:');
  const { token } = tokens.create({
    name: 'web-app',
    role: 'sdk',
    environment: 'production',
    createdBy: 'admin',
    now: 1000,
    ttlMs: null,
  });
  assert.equal(tokens.authenticate(token, 2000)?.environment, 'production');
  assert.ok(roleAllows('sdk', 'sdk') && !roleAllows('admin', 'sdk') && !roleAllows('sdk', 'viewer'));
  assert.equal(requiredAccess('POST', '/ofrep/v1/evaluate/flags/:key', {}), 'sdk');
  assert.equal(requiredAccess('GET', '/api/sdk/flags/stream', {}), 'sdk');
  tokens.close();
});
