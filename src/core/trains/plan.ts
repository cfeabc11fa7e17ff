/** A train's first state: each service with what it runs now and which services of the train it waits for. */
import { trainMembers, type TrainServiceState, type TrainSpec } from './types.ts';

/**
 * `needs`: each service → the services it depends on (the graph's, resolved); `running`: what each
 * runs now (version and revision), both by member name (trainMembers: `NAME--ENV` for a train into an
 * environment). A service already on its train version is done from the start.
 */
export function planTrain(
  spec: TrainSpec,
  needs: ReadonlyMap<string, readonly string[]>,
  running: ReadonlyMap<string, { version: string; revision: string } | null>,
): TrainServiceState[] {
  const members = trainMembers(spec);
  const inTrain = new Set(members.map((s) => s.name));
  return members.map((s) => {
    const from = running.get(s.name) ?? null;
    const already = from?.version === s.version;
    return {
      name: s.name,
      version: s.version,
      from,
      status: already ? 'done' : 'waiting',
      after: (needs.get(s.name) ?? []).filter((d) => inTrain.has(d)).sort(),
      startedAt: null,
      endedAt: null,
      detail: already ? `already runs ${s.version}` : '',
    };
  });
}
