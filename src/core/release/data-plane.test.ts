import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DATA_PLANE_DEATH_WINDOW_MS, DATA_PLANE_DEATHS_TO_PAUSE } from './data-plane.ts';
import { contract, STEPS } from '../testing/fixtures.ts';
import { deployed } from '../testing/test-driver.ts';

const died = (pid: number) => ({
  type: 'routerDied' as const,
  pid,
  detail: `the built-in proxy (pid ${pid}) killed by SIGKILL`,
});

function releasing() {
  const d = deployed();
  d.send(
    { type: 'startRelease', kind: 'canary', to: { key: '2', version: '2.0.0' }, steps: STEPS, contract: contract() },
    100,
  );
  d.send({ type: 'targetReady', key: '2', instances: [{ id: '2-1', url: 'http://b' }] }, 200);
  assert.equal(d.state.release?.status, 'Progressing');
  return d;
}

test('a dead data plane is a router problem until the router has started it again', () => {
  const d = deployed();
  const decision = d.send(died(41), 1000);
  assert.deepEqual(
    decision.events.map((e) => e.type),
    ['router.died'],
  );
  assert.deepEqual(d.state.problems?.router, {
    operation: 'serve traffic',
    error: 'the built-in proxy (pid 41) killed by SIGKILL',
    since: 1000,
    at: 1000,
  });
  assert.equal(d.state.release?.status, 'Succeeded', 'with no release in progress nothing is paused');
  d.send(died(42), 1100);
  assert.equal(d.state.problems?.router?.since, 1000, 'the streak keeps its first time');
});

test('the problem ends with router.restarted (folded, not decided)', async () => {
  const { reduce } = await import('./reduce.ts');
  const d = deployed();
  d.send(died(41), 1000);
  const after = reduce(d.state, {
    type: 'router.restarted',
    pid: 43,
    downMs: 300,
    service: 'checkout',
    at: 1300,
    actor: 'sluice-controller',
    seq: 99,
  });
  assert.equal(after.problems?.router, undefined);
  assert.deepEqual(after.problems, {});
});

test(`${DATA_PLANE_DEATHS_TO_PAUSE} deaths within a minute pause the release in progress, saying why; fewer do not`, () => {
  const d = releasing();
  d.send(died(1), 1000);
  d.send(died(2), 1000 + DATA_PLANE_DEATH_WINDOW_MS); // the first has left the window
  assert.equal(d.state.release?.status, 'Progressing');
  const third = d.send(died(3), 2000 + DATA_PLANE_DEATH_WINDOW_MS);
  assert.equal(d.state.release?.status, 'Progressing', 'two deaths within the window');
  assert.deepEqual(
    third.events.map((e) => e.type),
    ['router.died'],
  );
  const fourth = d.send(died(4), 3000 + DATA_PLANE_DEATH_WINDOW_MS);
  assert.deepEqual(
    fourth.events.map((e) => e.type),
    ['router.died', 'release.paused'],
  );
  assert.equal(d.state.release?.status, 'Paused');
  assert.equal(d.state.release?.pause?.reason, 'dataPlane');
  assert.match(
    d.state.release?.pause?.detail ?? '',
    /the data plane died 3 times within 60 s \(last: the built-in proxy \(pid 4\) killed by SIGKILL\)/,
  );
  // Already paused: a fifth death is recorded, not paused again.
  assert.deepEqual(
    d.send(died(5), 3100 + DATA_PLANE_DEATH_WINDOW_MS).events.map((e) => e.type),
    ['router.died'],
  );
  // A person can resume it.
  d.send({ type: 'command', command: { kind: 'resume' } }, 3200 + DATA_PLANE_DEATH_WINDOW_MS);
  assert.equal(d.state.release?.status, 'Progressing');
});
