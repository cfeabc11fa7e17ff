import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Fastify from 'fastify';
import { notFoundHandler } from './errors.ts';
import { registerStatic } from './static.ts';

/** A GET with the path sent exactly as written (fetch would normalise "..", the test wants it raw). */
function rawGet(url: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    http
      .get({ host: u.hostname, port: u.port, path }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

async function serve(t: { after: (fn: () => Promise<void> | void) => void }, dist: string): Promise<string> {
  const app = Fastify();
  app.setNotFoundHandler(notFoundHandler);
  app.get('/api/services', async () => ({ services: [] }));
  registerStatic(app, dist);
  t.after(() => app.close());
  return app.listen({ host: '127.0.0.1', port: 0 });
}

test('serves the build: hashed assets cached for good, index.html revalidated, app paths fall back to it', async (t) => {
  const dist = mkdtempSync(join(tmpdir(), 'sluice-dist-'));
  t.after(() => rmSync(dist, { recursive: true, force: true }));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(dist, 'assets/index-abc123.js'), 'console.log(1)');
  const url = await serve(t, dist);

  const index = await fetch(`${url}/`);
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const asset = await fetch(`${url}/assets/index-abc123.js`);
  assert.equal(asset.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(await asset.text(), 'console.log(1)');

  const deep = await fetch(`${url}/services/checkout/releases/3`);
  assert.equal(deep.status, 200);
  assert.equal(await deep.text(), '<!doctype html><title>app</title>');

  // Wrong API paths and missing files stay errors, never the app; nothing outside dist is served.
  const api = await fetch(`${url}/api/nope`);
  assert.equal(api.status, 404);
  assert.equal(((await api.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
  assert.equal((await fetch(`${url}/api/services`)).status, 200);
  assert.equal((await fetch(`${url}/assets/missing.js`)).status, 404);
  for (const path of ['/..%2f..%2f..%2fetc%2fhostname', '/assets/..%2f..%2f..%2f..%2fetc%2fhostname']) {
    const body = await rawGet(url, path);
    assert.ok(
      body === '<!doctype html><title>app</title>' || body.includes('NOT_FOUND'),
      `${path} answered ${body.slice(0, 80)}`,
    );
  }
  assert.equal((await fetch(`${url}/%E0%A4%A`)).status, 400, 'a malformed path is a bad request');
});

test('without a build, a page says how to make one (and the API still answers)', async (t) => {
  const url = await serve(t, join(tmpdir(), 'sluice-no-such-dist'));
  const res = await fetch(`${url}/services/checkout`);
  assert.equal(res.status, 503);
  assert.match(await res.text(), /npm run build:web/);
  assert.equal((await fetch(`${url}/api/services`)).status, 200);
});
