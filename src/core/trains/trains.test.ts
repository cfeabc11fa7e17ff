import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  abortTrain,
  nextRuns,
  planTrain,
  reduceTrain,
  rejectTrain,
  stepTrain,
  trainApprovalRefusal,
  trainRejectionRefusal,
  type ServiceObservation,
  type TrainAction,
  type TrainEvent,
  type TrainSpec,
  type TrainState,
} from './index.ts';

/** A simulated fleet: each service's stable version and release, moved by the train's actions. */
class Fleet {
  readonly seen: Record<string, ServiceObservation> = {};
  constructor(running: Record<string, string>) {
    for (const [name, v] of Object.entries(running)) this.seen[name] = { stable: v, release: null, waiting: null };
  }
  perform(a: TrainAction) {
    const o = this.seen[a.service]!;
    if (a.kind === 'release') o.release = { to: a.version, status: 'Progressing', kind: 'canary', detail: '' };
    if (a.kind === 'rollback') o.release = { to: a.version, status: 'Progressing', kind: 'undo', detail: '' };
    if (a.kind === 'abort') o.release = { ...o.release!, status: 'Aborted', detail: a.reason };
  }
  succeed(name: string) {
    const o = this.seen[name]!;
    o.stable = o.release!.to;
    o.release = { ...o.release!, status: 'Succeeded' };
  }
  fail(name: string, reverting = false) {
    const release = { ...this.seen[name]!.release!, status: 'RolledBack', detail: 'error_rate failed', reverting };
    this.seen[name]!.release = release;
  }
}

function runner(spec: TrainSpec, needs: Record<string, string[]>, fleet: Fleet, requestedBy = 'dora') {
  const running = new Map(
    Object.entries(fleet.seen).map(([n, o]) => [
      n,
      o.stable === null ? null : { version: o.stable, revision: `r-${o.stable}` },
    ]),
  );
  let t: TrainState = reduceTrain(null, {
    type: 'train.started',
    spec,
    run: 1,
    services: planTrain(spec, new Map(Object.entries(needs)), running),
    requestedBy,
    at: 0,
  })!;
  const log: string[] = [];
  let now = 0;
  const step = () => {
    const d = stepTrain(t, fleet.seen);
    for (const e of d.events) {
      t = reduceTrain(t, { ...e, at: ++now })!;
      log.push('member' in e ? `${e.type} ${e.member}` : e.type);
    }
    for (const a of d.actions) fleet.perform(a);
    return d;
  };
  /** A person's decision (approve, reject, abort): its events folded as the runner records them. */
  const record = (events: TrainEvent[]) => {
    for (const e of events) {
      t = reduceTrain(t, { ...e, at: ++now })!;
      log.push(e.type);
    }
  };
  return { step, record, log, state: () => t, set: (s: TrainState) => (t = s) };
}

const spec = (o: Partial<TrainSpec> = {}): TrainSpec => ({
  name: 'spring',
  maxParallel: 2,
  onFailure: 'rollbackAll',
  services: [
    { name: 'payments', version: '2.3.0' },
    { name: 'checkout', version: '3.0.0' },
    { name: 'search', version: '1.9.0' },
  ],
  ...o,
});

test('services start in dependency order, independent ones in parallel up to maxParallel, and the train succeeds when all are done', () => {
  const fleet = new Fleet({ payments: '2.2.0', checkout: '2.0.0', search: '1.8.0' });
  const r = runner(spec(), { checkout: ['payments'] }, fleet);
  const first = r.step();
  assert.deepEqual(
    first.actions.map((a) => `${a.kind} ${a.service}`),
    ['release payments', 'release search'],
    'checkout waits for payments; two at a time',
  );
  assert.deepEqual(r.step().actions, [], 'nothing done yet');
  fleet.succeed('search');
  assert.deepEqual(r.step().actions, [], 'checkout still waits for payments');
  fleet.succeed('payments');
  assert.deepEqual(
    r.step().actions.map((a) => `${a.kind} ${a.service} ${a.kind === 'release' ? a.version : ''}`),
    ['release checkout 3.0.0'],
  );
  fleet.succeed('checkout');
  r.step();
  assert.equal(r.state().status, 'Succeeded');
  assert.deepEqual(r.log, [
    'train.serviceStarted payments',
    'train.serviceStarted search',
    'train.serviceDone search',
    'train.serviceDone payments',
    'train.serviceStarted checkout',
    'train.serviceDone checkout',
    'train.ended',
  ]);
});

test('maxParallel 1 releases one at a time', () => {
  const fleet = new Fleet({ payments: '2.2.0', checkout: '2.0.0', search: '1.8.0' });
  const r = runner(spec({ maxParallel: 1 }), {}, fleet);
  assert.equal(r.step().actions.length, 1);
});

test('rollbackAll: the middle service fails, the others are rolled back in reverse dependency order, dependents first', () => {
  // chain: search → checkout → payments (search depends on checkout, checkout on payments), plus an independent ledger.
  const fleet = new Fleet({ payments: '2.2.0', checkout: '2.0.0', search: '1.8.0', ledger: '1.0.0' });
  const s = spec({ services: [...spec().services, { name: 'ledger', version: '1.1.0' }] });
  const r = runner(s, { checkout: ['payments'], search: ['checkout'] }, fleet);
  r.step(); // payments, ledger
  fleet.succeed('payments');
  fleet.succeed('ledger');
  assert.deepEqual(
    r.step().actions.map((a) => a.service),
    ['checkout'],
  );
  fleet.fail('checkout', true); // its own contract is rolling it back: its traffic is not back yet
  assert.deepEqual(r.step(), { events: [], actions: [] }, 'the train waits for the failed service to be back');
  fleet.fail('checkout'); // …now it is
  const stop = r.step();
  assert.equal(r.state().status, 'RollingBack');
  assert.deepEqual(stop.actions, []);
  assert.equal(r.state().services.find((x) => x.name === 'search')!.status, 'held');
  const back = r.step();
  assert.deepEqual(
    back.actions.map((a) => `${a.kind} ${a.service} ${a.kind === 'rollback' ? a.toRevision : ''}`),
    ['rollback payments r-2.2.0', 'rollback ledger r-1.0.0'],
  );
  fleet.succeed('payments');
  fleet.succeed('ledger');
  r.step();
  assert.equal(r.state().status, 'RolledBack');
  assert.deepEqual(
    r.state().services.map((x) => `${x.name}:${x.status}`),
    ['payments:rolledBack', 'checkout:failed', 'search:held', 'ledger:rolledBack'],
  );
});

test('rollbackAll with two levels done: the dependent goes back before what it depends on; a service still releasing is aborted', () => {
  const fleet = new Fleet({ payments: '2.2.0', checkout: '2.0.0', search: '1.8.0' });
  const r = runner(spec({ maxParallel: 3 }), { checkout: ['payments'] }, fleet);
  r.step(); // payments, search
  fleet.succeed('payments');
  r.step(); // checkout
  fleet.succeed('checkout');
  fleet.fail('search');
  const stop = r.step();
  assert.deepEqual(stop.actions, [], 'nothing else releasing');
  const first = r.step();
  assert.deepEqual(
    first.actions.map((a) => a.service),
    ['checkout'],
    'payments waits until checkout is back',
  );
  fleet.succeed('checkout');
  assert.deepEqual(
    r.step().actions.map((a) => a.service),
    ['payments'],
  );
  fleet.succeed('payments');
  r.step();
  assert.equal(r.state().status, 'RolledBack');
  assert.deepEqual(
    r.log.filter((l) => l.startsWith('train.rollbackStarted')),
    ['train.rollbackStarted checkout', 'train.rollbackStarted payments'],
  );

  const fleet2 = new Fleet({ payments: '2.2.0', checkout: '2.0.0', search: '1.8.0' });
  const r2 = runner(spec(), {}, fleet2);
  r2.step(); // payments, checkout (no dependencies: in the order written)
  fleet2.fail('payments');
  assert.deepEqual(
    r2.step().actions.map((a) => `${a.kind} ${a.service}`),
    ['abort checkout'],
  );
  r2.step();
  assert.equal(r2.state().services.find((x) => x.name === 'checkout')!.status, 'rolledBack');
  assert.equal(r2.state().status, 'RolledBack');
});

test('holdOthers: the failed service is back by its own contract, the rest is held, nothing else rolled back', () => {
  const fleet = new Fleet({ payments: '2.2.0', checkout: '2.0.0', search: '1.8.0' });
  const r = runner(spec({ onFailure: 'holdOthers', maxParallel: 1 }), { checkout: ['payments'] }, fleet);
  r.step();
  fleet.succeed('payments');
  r.step();
  fleet.fail('checkout');
  const d = r.step();
  assert.deepEqual(d.actions, []);
  assert.equal(r.state().status, 'Failed');
  assert.deepEqual(
    r.state().services.map((x) => x.status),
    ['done', 'failed', 'held'],
  );
});

test('abort: releasing services are aborted, waiting ones held', () => {
  const fleet = new Fleet({ payments: '2.2.0', checkout: '2.0.0', search: '1.8.0' });
  const r = runner(spec({ maxParallel: 1 }), { checkout: ['payments'] }, fleet);
  r.step();
  const d = abortTrain(r.state(), 'stopped by alice');
  assert.deepEqual(d.actions, [{ kind: 'abort', service: 'payments', reason: 'stopped by alice' }]);
  assert.deepEqual(
    d.events.map((e) => e.type),
    ['train.held', 'train.ended'],
  );
});

test('a train calendar: the next runs of its RRULE in its time zone; abort cancels the schedule', () => {
  const weekly = { rrule: 'FREQ=WEEKLY;BYDAY=TU', start: '2026-12-01T10:00', timeZone: 'Europe/Berlin' };
  const after = Date.parse('2026-12-03T12:00:00Z'); // a Thursday
  assert.deepEqual(
    nextRuns(weekly, after, 2).map((t) => new Date(t).toISOString()),
    ['2026-12-08T09:00:00.000Z', '2026-12-15T09:00:00.000Z'],
  );
  // Summer time: 10:00 in Berlin is 08:00Z.
  assert.equal(
    new Date(nextRuns(weekly, Date.parse('2027-06-01T00:00:00Z'))[0]!).toISOString(),
    '2027-06-01T08:00:00.000Z',
  );
  assert.deepEqual(nextRuns({ ...weekly, rrule: 'FREQ=YEARLY;COUNT=1' }, after), [], 'none left');
  const t = reduceTrain(null, { type: 'train.scheduled', spec: { ...spec(), schedule: weekly }, nextRunAt: 5, at: 1 })!;
  assert.equal(t.status, 'Scheduled');
  assert.equal(t.nextRunAt, 5);
  assert.deepEqual(stepTrain(t, {}), { events: [], actions: [] }, 'the runner, not a step, starts it at its time');
  const d = abortTrain(t, 'by alice');
  assert.deepEqual(d.events, [
    { type: 'train.ended', status: 'Aborted', detail: 'the schedule was cancelled: by alice' },
  ]);
  assert.equal(reduceTrain(t, { ...d.events[0]!, at: 2 })!.nextRunAt, null);
});

test('a train with spec.approvals waits before starting anything until enough distinct approvers approve; never its requester', () => {
  const fleet = new Fleet({ payments: '2.2.0', checkout: '2.0.0', search: '1.8.0' });
  const r = runner(spec({ approvals: { required: 2, role: 'approver' } }), { checkout: ['payments'] }, fleet, 'dora');
  assert.equal(r.state().status, 'WaitingForApproval');
  assert.equal(r.state().detail, 'waiting for approval: 0 of 2 approvers (sluice train approve spring)');
  assert.deepEqual(r.step(), { events: [], actions: [] }, 'nothing starts while it waits');
  assert.deepEqual(
    r.state().services.map((s) => s.status),
    ['waiting', 'waiting', 'waiting'],
  );

  assert.match(trainApprovalRefusal(r.state(), 'dora', true)!, /dora requested run 1 of train spring .*four-eyes/);
  assert.equal(
    trainApprovalRefusal(r.state(), 'vera', false),
    'approvals for train spring need role approver or above',
  );
  assert.equal(trainApprovalRefusal(r.state(), 'bob', true), null);
  r.record([{ type: 'train.approved', by: 'bob', role: 'approver', comment: 'ship it' }]);
  assert.equal(r.state().status, 'WaitingForApproval');
  assert.match(r.state().detail, /^waiting for approval: 1 of 2 approvers/);
  assert.match(trainApprovalRefusal(r.state(), 'bob', true)!, /bob already approved run 1 of train spring/);
  assert.deepEqual(r.step().actions, []);

  r.record([{ type: 'train.approved', by: 'ann', role: 'admin', comment: null }]);
  assert.equal(r.state().status, 'Running');
  assert.equal(r.state().detail, '');
  assert.deepEqual(
    r.step().actions.map((a) => `${a.kind} ${a.service}`),
    ['release payments', 'release search'],
  );
});

test('a rejected run ends without starting anything; a rejection needs the role; each run asks for its own approvals', () => {
  const fleet = new Fleet({ payments: '2.2.0', checkout: '2.0.0', search: '1.8.0' });
  const s = spec({
    approvals: { required: 1, role: 'admin' },
    schedule: { rrule: 'FREQ=DAILY', start: '2026-12-08T10:00', timeZone: 'UTC' },
  });
  const r = runner(s, {}, fleet);
  assert.equal(r.state().detail, 'waiting for approval: 0 of 1 admin (sluice train approve spring)');
  assert.match(trainRejectionRefusal(r.state(), false)!, /rejecting train spring needs role admin or above/);
  assert.equal(trainRejectionRefusal(r.state(), true), null);
  const d = rejectTrain(r.state(), 'ann', 'not during the sale');
  assert.deepEqual(d.actions, []);
  r.record(d.events);
  assert.equal(r.state().status, 'Rejected');
  assert.equal(r.state().detail, 'rejected by ann: not during the sale');
  assert.deepEqual(
    r.state().services.map((x) => x.status),
    ['held', 'held', 'held'],
  );
  assert.deepEqual(r.step(), { events: [], actions: [] });

  // The next run of the schedule: asked for by who applied the schedule, with no approval yet.
  r.record([{ type: 'train.scheduled', spec: s, nextRunAt: 1000, requestedBy: 'dora' }]);
  r.record([{ type: 'train.approved', by: 'ann', role: 'admin', comment: null }]);
  r.set(
    reduceTrain(r.state(), {
      type: 'train.started',
      spec: s,
      run: 2,
      services: planTrain(s, new Map(), new Map()),
      requestedBy: r.state().requestedBy,
      at: 2000,
    })!,
  );
  assert.equal(r.state().status, 'WaitingForApproval', 'an approval of an earlier run does not count');
  assert.deepEqual(r.state().approvals, []);
  assert.match(trainApprovalRefusal(r.state(), 'dora', true)!, /four-eyes/);

  // Abort works while it waits: nothing started, everything held.
  const aborted = abortTrain(r.state(), 'aborted by dora');
  assert.deepEqual(aborted.actions, []);
  r.record(aborted.events);
  assert.equal(r.state().status, 'Aborted');
});

test('with spec.window, a closed window holds the next service (recorded once, why and until when); it goes on when the window opens; a rollback is never held', () => {
  const fleet = new Fleet({ payments: '2.2.0', checkout: '2.0.0', search: '1.8.0' });
  const r = runner(spec({ window: { policy: 'ops' }, maxParallel: 1 }), { checkout: ['payments'] }, fleet);
  const closed = { open: false, reason: 'freeze "peak" (peak traffic) until 1970-01-01T00:00:05.000Z', until: 5_000 };
  for (const name of ['payments', 'checkout', 'search']) fleet.seen[name]!.window = closed;
  assert.deepEqual(r.step().actions, [], 'nothing starts while the window is closed');
  assert.deepEqual(r.log, ['train.windowClosed']);
  assert.deepEqual(r.state().window, { services: ['payments', 'search'], reason: closed.reason, until: 5_000 });
  assert.equal(
    r.state().services[0]!.detail,
    'waiting for the release window: freeze "peak" (peak traffic) until 1970-01-01T00:00:05.000Z',
  );
  assert.equal(r.state().status, 'Running');
  assert.deepEqual(r.step(), { events: [], actions: [] }, 'the same wait is recorded once');

  for (const name of ['payments', 'checkout', 'search'])
    fleet.seen[name]!.window = { open: true, reason: 'window "weekdays"', until: null };
  assert.deepEqual(
    r.step().actions.map((a) => `${a.kind} ${a.service}`),
    ['release payments'],
  );
  assert.deepEqual(r.log.slice(1), ['train.windowOpened', 'train.serviceStarted payments']);
  assert.equal(r.state().window, null);

  // Closed again mid-train: payments is done, checkout's and search's turn waits for the window.
  fleet.succeed('payments');
  fleet.seen.checkout!.window = closed;
  fleet.seen.search!.window = closed;
  assert.deepEqual(r.step().actions, []);
  assert.deepEqual(r.state().window?.services, ['checkout', 'search']);

  // A failure rolls payments back while the window is closed: a rollback is never held.
  fleet.seen.checkout!.window = { open: true, reason: 'open', until: null };
  r.step();
  fleet.fail('checkout');
  fleet.seen.payments!.window = closed;
  fleet.seen.checkout!.window = closed;
  r.step();
  assert.equal(r.state().status, 'RollingBack');
  assert.deepEqual(
    r.step().actions.map((a) => `${a.kind} ${a.service}`),
    ['rollback payments'],
  );
});

test('without spec.window the train does not look at windows (each release is held by the engine as any)', () => {
  const fleet = new Fleet({ payments: '2.2.0', checkout: '2.0.0', search: '1.8.0' });
  const r = runner(spec(), {}, fleet);
  for (const name of ['payments', 'checkout', 'search'])
    fleet.seen[name]!.window = { open: false, reason: 'closed', until: null };
  assert.deepEqual(
    r.step().actions.map((a) => `${a.kind} ${a.service}`),
    ['release payments', 'release checkout'],
  );
});
