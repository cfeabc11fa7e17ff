/**
 * Bad specs and bad API requests get a clear 4xx naming the field and what is valid; the server
 * never crashes on them.
 */
import assert from 'node:assert/strict';
import { before, after, test } from 'node:test';
import { freePort, serviceSpec, SluiceServer } from './support/sluice.ts';

type ErrorBody = {
  error: {
    code: string;
    message: string;
    retryable: boolean;
    detail?: { issues?: { line: number; column: number; path: string; message: string }[] };
  };
};
let server: SluiceServer;
let listenPort: number;
before(async () => {
  server = await SluiceServer.start();
  listenPort = await freePort();
  await server.apply(serviceSpec({ version: '1.0.0', listenPort, instances: 1 }));
  await server.waitForPhase('Healthy');
});
after(() => server.close());

test('a spec without a rollback contract is refused with its file, line, column and field', async () => {
  const spec = serviceSpec({ version: '2.0.0', listenPort }).replace(/  rollbackContract:[\s\S]*$/, '');
  const r = await server.api<ErrorBody>('POST', '/api/apply', { spec, file: 'checkout.yaml' });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'SPEC_INVALID');
  assert.match(r.body.error.message, /^checkout\.yaml:\d+:\d+: spec\.rollbackContract: .*required/m);
  assert.equal(r.body.error.detail!.issues![0]!.path, 'spec.rollbackContract');
  assert.equal((await server.status()).stableVersion, '1.0.0', 'nothing was applied');
});

test('every problem of a spec is reported at once, each where it is', async () => {
  const spec = serviceSpec({ version: '2.0.0', listenPort })
    .replace('above: baseline, by: 0.02', 'above: baseline')
    .replace('interval: 250ms', 'interval: 10 sec')
    .replace('metric: latency_p95', 'metric: latency_p96');
  const r = await server.api<ErrorBody>('POST', '/api/apply', { spec, file: 'bad.yaml' });
  assert.equal(r.status, 400);
  const issues = r.body.error.detail!.issues!;
  const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
  assert.match(byPath['spec.rollbackContract.interval']!.message, /not a duration.*500ms/);
  assert.match(byPath['spec.rollbackContract.rules[0].failIf.above']!.message, /threshold/);
  assert.match(
    Object.entries(byPath).find(([p]) => p.startsWith('spec.rollbackContract.rules[1].metric'))![1].message,
    /latency_p95/,
  );
  const lines = spec.split('\n');
  assert.match(lines[byPath['spec.rollbackContract.interval']!.line - 1]!, /interval: 10 sec/);
});

test('YAML syntax errors and unknown keys name the place', async () => {
  const broken = await server.api<ErrorBody>('POST', '/api/apply', {
    spec: 'kind: Service\nmetadata: [oops',
    file: 'x.yaml',
  });
  assert.equal(broken.status, 400);
  assert.match(broken.body.error.message, /^x\.yaml:\d+:\d+: YAML:/);
  const typo = serviceSpec({ version: '2.0.0', listenPort }).replace('rollbackContract:', 'rollbackcontract:');
  const r = await server.api<ErrorBody>('POST', '/api/apply', { spec: typo, file: 'typo.yaml' });
  assert.match(r.body.error.message, /rollbackcontract/);
});

test('bad API requests get 4xx with a message, never a crash', async () => {
  const raw = await fetch(`${server.url}/api/apply`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: '{not json',
  });
  assert.equal(raw.status, 400);
  assert.equal(((await raw.json()) as ErrorBody).error.code, 'BAD_REQUEST');
  const missing = await server.api<ErrorBody>('POST', '/api/apply', {});
  assert.equal(missing.status, 400);
  assert.match(missing.body.error.message, /spec/);
  const extra = await server.api<ErrorBody>('POST', '/api/services/checkout/promote', { ful: true });
  assert.equal(extra.status, 400);
  assert.match(extra.body.error.message, /ful/);
  const unknown = await server.api<ErrorBody>('GET', '/api/services/nope');
  assert.equal(unknown.status, 404);
  assert.match(unknown.body.error.message, /no service named "nope"/);
  const badName = await server.api<ErrorBody>('GET', '/api/services/Bad_Name');
  assert.equal(badName.status, 400);
  const command = await server.api<ErrorBody>('POST', '/api/services/checkout/explode', {});
  assert.equal(command.status, 400);
  assert.match(command.body.error.message, /valid: promote, pause, resume, abort, retry, undo/);
  const route = await server.api<ErrorBody>('GET', '/api/nothing-here');
  assert.equal(route.status, 404);
});

test('the OpenAPI document describes every route the API lists, with the validated bodies', async () => {
  const doc = await server.api<{
    openapi: string;
    paths: Record<
      string,
      Record<
        string,
        { requestBody?: { content: Record<string, { schema: { required?: string[]; properties?: object } }> } }
      >
    >;
  }>('GET', '/api/openapi.json');
  assert.equal(doc.status, 200);
  assert.equal(doc.body.openapi, '3.1.0');
  // Every route the server registered (its live route table), so a new route cannot go undocumented.
  const registered = (await server.api<{ routes: { method: string; url: string }[] }>('GET', '/api/access')).body
    .routes;
  const missing = registered
    .filter((r) => r.url.startsWith('/api') && !r.url.includes(':command'))
    .filter((r) => !doc.body.paths[r.url.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()])
    .map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(missing, [], 'every registered route is in the OpenAPI document');
  for (const command of ['promote', 'pause', 'resume', 'abort', 'retry', 'undo'])
    assert.ok(doc.body.paths[`/api/services/{name}/${command}`]?.post);
  const apply = doc.body.paths['/api/apply']!.post!.requestBody!.content['application/json']!.schema;
  assert.deepEqual(apply.required, ['spec']);
  assert.ok(apply.properties && 'baseDir' in apply.properties);
});

test('commands that make no sense in the phase are refused with 409 and why', async () => {
  const promote = await server.api<ErrorBody>('POST', '/api/services/checkout/promote', {});
  assert.equal(promote.status, 409);
  assert.match(promote.body.error.message, /no release of checkout is in progress/);
  assert.equal(promote.body.error.retryable, true);
  const undo = await server.api<ErrorBody>('POST', '/api/services/checkout/undo', {});
  assert.equal(undo.status, 409);
  assert.match(undo.body.error.message, /no previous revision/);
  const to = await server.api<ErrorBody>('POST', '/api/services/checkout/undo', { toRevision: '99' });
  assert.equal(to.status, 404);
  assert.match(to.body.error.message, /known revisions: 1 \(1\.0\.0\)/);
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
});
