import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { emptyState, RELEASE_DEFAULTS, type ServiceState } from '../core/release/state.ts';
import { contract } from '../core/testing/fixtures.ts';
import { ProbeRunner, type ProbeReport } from './probe-runner.ts';

function releasing(url: string, failureThreshold: number): ServiceState {
  const probes = { path: '/healthz', intervalMs: 50, timeoutMs: 500, failureThreshold };
  return {
    ...emptyState('checkout'),
    runtimes: { '2': { key: '2', version: '2.0.0', status: 'ready', instances: [{ id: '2-1', url }], crashes: [] } },
    release: {
      ...RELEASE_DEFAULTS,
      plan: { ...RELEASE_DEFAULTS.plan, probes },
      id: 'checkout#2',
      number: 2,
      kind: 'canary',
      from: { key: '1', version: '1.0.0' },
      to: { key: '2', version: '2.0.0' },
      steps: [],
      contract: contract(),
      status: 'Progressing',
      startedAt: 0,
      startedBy: 'a',
      endedAt: null,
      stepIndex: 0,
      stepStartedAt: 0,
      pause: null,
      completing: false,
      rules: {},
      analysedAt: null,
      rollback: null,
      error: null,
    },
  };
}

test('an instance is reported after N failed probes in a row, with the evidence; a success resets the run', async (t) => {
  let answers = [200, 500, 500, 200, 500, 500, 500];
  const server = http.createServer((req, res) => res.writeHead(answers.shift() ?? 500).end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const reports: ProbeReport[] = [];
  const runner = new ProbeRunner((r) => reports.push(r));
  t.after(() => runner.stop());
  runner.sync(releasing(url, 3));
  const until = Date.now() + 5000;
  while (reports.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  runner.stop();
  assert.equal(reports.length, 1);
  assert.equal(answers.length, 0, 'the two failures before the success did not count');
  const [report] = reports;
  assert.deepEqual([report!.instanceId, report!.url, report!.failures], ['2-1', `${url}/healthz`, 3]);
  assert.deepEqual(
    report!.evidence.map((e) => e.status),
    [500, 500, 500],
  );
});

test('nothing is probed once the release is over', async () => {
  const reports: ProbeReport[] = [];
  const runner = new ProbeRunner((r) => reports.push(r));
  const state = releasing('http://127.0.0.1:9', 1);
  runner.sync({ ...state, release: { ...state.release!, status: 'Succeeded' } });
  await new Promise((r) => setTimeout(r, 200));
  runner.stop();
  assert.deepEqual(reports, []);
});
