/**
 * A train's events live in the hash-chained log under `_train:<name>` (service names are DNS
 * labels, so no service can have it), folded by core/trains into the train's state.
 */
import { emptyState } from '../core/release/state.ts';
import { reduceTrain, type TrainEvent, type TrainState } from '../core/trains/index.ts';
import type { EventBus } from '../engine/event-bus.ts';
import type { Fence, Store } from '../store/types.ts';

export const TRAIN_LOG_PREFIX = '_train:';
const PREFIX = TRAIN_LOG_PREFIX;

export const trainLogName = (train: string) => `${PREFIX}${train}`;

export interface TrainLog {
  /** Replicated, under the fence of the train's lease: refused (FencedWrite) once another replica took the train over. */
  record(train: string, events: TrainEvent[], actor: string, fence?: Fence): Promise<void>;
  /** The train's events in order (its timeline), with who and when. */
  events(train: string): Promise<(TrainEvent & { at: number; actor: string })[]>;
  /** The train folded from its events (null: never applied). */
  state(train: string): Promise<TrainState | null>;
  /** Names of every train in the log. */
  names(): Promise<string[]>;
}

export function trainLog(store: Store, bus: EventBus, now: () => number): TrainLog {
  const events = async (train: string) => {
    const all = await store.events({ service: trainLogName(train), limit: 100_000 });
    return all.filter((e): e is typeof e & TrainEvent => e.type.startsWith('train.'));
  };
  return {
    async record(train, list, actor, fence) {
      if (list.length === 0) return;
      const at = now();
      const stored = await store.commit(
        trainLogName(train),
        list.map((e) => ({ ...e, at, actor })),
        emptyState(trainLogName(train)),
        fence,
      );
      bus.publish(stored);
    },
    events,
    async state(train) {
      let t: TrainState | null = null;
      for (const e of await events(train)) t = reduceTrain(t, e);
      return t;
    },
    async names() {
      return (await store.states())
        .map((s) => s.service)
        .filter((n) => n.startsWith(PREFIX))
        .map((n) => n.slice(PREFIX.length))
        .sort();
    },
  };
}
