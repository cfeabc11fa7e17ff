import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  pendingActions,
  planTrain,
  reduceTrain,
  stepTrain,
  type ServiceObservation,
  type TrainEvent,
  type TrainSpec,
  type TrainState,
} from './index.ts';

const spec: TrainSpec = {
  name: 'spring',
  maxParallel: 2,
  onFailure: 'rollbackAll',
  services: [
    { name: 'payments', version: '2.0.0' },
    { name: 'checkout', version: '2.0.0' },
  ],
};

const stable = (v: string): ServiceObservation => ({ stable: v, release: null, waiting: null });
const releasing = (to: string, status = 'Progressing', kind = 'canary'): ServiceObservation['release'] => ({
  to,
  status,
  kind,
  detail: '',
});

/** A train started with payments and checkout on 1.0.0 (checkout after payments), then `events` recorded. */
function train(...events: TrainEvent[]): TrainState {
  const running = new Map([
    ['payments', { version: '1.0.0', revision: '1' }],
    ['checkout', { version: '1.0.0', revision: '1' }],
  ]);
  let t = reduceTrain(null, {
    type: 'train.started',
    spec,
    run: 1,
    services: planTrain(spec, new Map([['checkout', ['payments']]]), running),
    at: 0,
  })!;
  for (const e of events) t = reduceTrain(t, { ...e, at: 1 })!;
  return t;
}

test('a release the log started and the service does not show is asked for again; one it shows is not', () => {
  const started = train({ type: 'train.serviceStarted', member: 'payments', version: '2.0.0' });
  const seen = { payments: stable('1.0.0'), checkout: stable('1.0.0') };
  assert.deepEqual(pendingActions(started, seen), [{ kind: 'release', service: 'payments', version: '2.0.0' }]);
  // Started after all (the first runner acted before it died), waiting for its window, or done.
  for (const o of [
    { ...stable('1.0.0'), release: releasing('2.0.0') },
    { ...stable('1.0.0'), release: releasing('2.0.0', 'RolledBack') },
    { ...stable('1.0.0'), waiting: 'waits for its dependencies' },
    stable('2.0.0'),
  ])
    assert.deepEqual(pendingActions(started, { ...seen, payments: o }), [], JSON.stringify(o));
});

test('nothing is pending for a train not started, waiting, or ended', () => {
  const seen = { payments: stable('1.0.0'), checkout: stable('1.0.0') };
  assert.deepEqual(pendingActions(train(), seen), [], 'nothing recorded as started');
  const ended = train(
    { type: 'train.serviceStarted', member: 'payments', version: '2.0.0' },
    { type: 'train.ended', status: 'Aborted', detail: 'aborted by dora' },
  );
  assert.deepEqual(pendingActions(ended, seen), []);
});

test('rolling back: a rollback recorded and not begun is asked for again; a release the train aborted and still going is aborted', () => {
  const t = train(
    { type: 'train.serviceStarted', member: 'payments', version: '2.0.0' },
    { type: 'train.serviceDone', member: 'payments', detail: 'payments runs 2.0.0' },
    { type: 'train.serviceStarted', member: 'checkout', version: '2.0.0' },
    { type: 'train.rollingBack', detail: 'ledger failed' },
  );
  const going = { payments: stable('2.0.0'), checkout: { ...stable('1.0.0'), release: releasing('2.0.0') } };
  assert.deepEqual(pendingActions(t, going), [
    { kind: 'abort', service: 'checkout', reason: 'train spring: ledger failed' },
  ]);
  const aborted = { ...going, checkout: { ...stable('1.0.0'), release: releasing('2.0.0', 'Aborted') } };
  assert.deepEqual(pendingActions(t, aborted), []);

  // The step then rolls payments back once checkout is down; the runner died before acting.
  const step = stepTrain(t, aborted);
  let back = t;
  for (const e of step.events) back = reduceTrain(back, { ...e, at: 2 })!;
  assert.deepEqual(step.actions, [{ kind: 'rollback', service: 'payments', toRevision: '1', version: '1.0.0' }]);
  assert.deepEqual(pendingActions(back, aborted), step.actions, 'asked for again');
  const undoing = { ...aborted, payments: { ...stable('2.0.0'), release: releasing('1.0.0', 'Progressing', 'undo') } };
  assert.deepEqual(pendingActions(back, undoing), [], 'the undo release began');
  assert.deepEqual(pendingActions(back, { ...aborted, payments: stable('1.0.0') }), [], 'back already');
});
