/**
 * What the rehearsal gate reads (core/drills/rehearsal.ts): the newest rollback rehearsal of a
 * version for an environment, from the drills' log, and whether the environment serves anything
 * yet (its first release has nothing to roll back to).
 */
import { DRILL_LOG } from '../core/drills/events.ts';
import type { RehearsalFacts, RehearsalResult } from '../core/drills/rehearsal.ts';
import type { Store } from '../store/types.ts';
import { environmentService } from './effective-spec.ts';
import type { Engine } from './engine.ts';

/** Every rehearsal recorded, oldest first. */
export async function rehearsals(store: Store): Promise<RehearsalResult[]> {
  return (await store.events({ service: DRILL_LOG })).flatMap((e) => (e.type === 'drill.rehearsed' ? [e.result] : []));
}

export async function rehearsalFacts(
  engine: Engine,
  store: Store,
  service: string,
  environment: string,
  version: string,
): Promise<RehearsalFacts> {
  const last =
    (await rehearsals(store))
      .filter((r) => r.service === service && r.environment === environment && r.version === version)
      .at(-1) ?? null;
  const target = environmentService(service, environment);
  const firstRelease = (engine.serviceState(target)?.stable ?? null) === null;
  return { last, firstRelease };
}
