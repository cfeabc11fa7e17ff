import { decide } from '../release/decide.ts';
import type { Input } from '../release/decision.ts';
import type { ServiceEvent } from '../events.ts';
import { contract, STEPS } from './fixtures.ts';
import { reduce } from '../release/reduce.ts';
import { emptyState, type ServiceState } from '../release/state.ts';

/**
 * Drive the core by hand: each call folds the decision's events and returns it. With
 * `routerConfirms`, every setWeights is confirmed by the router at once (weightsApplied).
 */
export function driver(routerConfirms = true) {
  let state: ServiceState = emptyState('checkout');
  let seq = 0;
  const fold = (input: Input, now: number, actor: string) => {
    const d = decide(state, input, now, actor);
    for (const body of d.events)
      state = reduce(state, { ...body, service: 'checkout', at: now, actor, seq: ++seq } as ServiceEvent);
    return d;
  };
  return {
    get state() {
      return state;
    },
    send(input: Input, now: number, actor = 'alice') {
      const d = fold(input, now, actor);
      if (routerConfirms) {
        for (const a of d.actions)
          if (a.kind === 'setWeights') fold({ type: 'weightsApplied', weights: a.weights }, now, 'sluice-controller');
      }
      return d;
    },
  };
}

export function deployed(routerConfirms = true) {
  const d = driver(routerConfirms);
  d.send(
    { type: 'startRelease', kind: 'deploy', to: { key: '1', version: '1.0.0' }, steps: STEPS, contract: contract() },
    0,
  );
  d.send({ type: 'targetReady', key: '1', instances: [{ id: '1-1', url: 'http://a' }] }, 10);
  if (!routerConfirms) d.send({ type: 'weightsApplied', weights: { '1': 100 } }, 20);
  return d;
}
