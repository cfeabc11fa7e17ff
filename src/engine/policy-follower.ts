/**
 * Replicated: the release policy and the server policy are files in each replica's data dir, read
 * at every gate check and apply. Their `policy.applied` and `serverPolicy.applied` events in the
 * shared log carry them, and each replica writes the latest to its own data dir — at start,
 * catching up on the log, and as the events arrive — so a freeze applied on one replica holds on
 * every one, whichever runs the release.
 */
import type { Logger } from 'pino';
import type { ServiceEvent } from '../core/events.ts';
import type { Store } from '../store/types.ts';
import type { EventBus } from './event-bus.ts';
import { writePolicy } from './release-policy.ts';
import { SERVER_LOG } from './server-log.ts';
import { serverPolicySchema, writeServerPolicy } from './server-policy.ts';

const PAGE = 1000;

type PolicyEvent = Extract<ServiceEvent, { type: 'policy.applied' | 'serverPolicy.applied' }>;

function carriesPolicy(e: ServiceEvent): e is PolicyEvent {
  return (e.type === 'policy.applied' && e.document !== undefined) || e.type === 'serverPolicy.applied';
}

async function write(dataDir: string, e: PolicyEvent): Promise<void> {
  if (e.type === 'policy.applied') await writePolicy(dataDir, e.document);
  else
    await writeServerPolicy(
      dataDir,
      serverPolicySchema.parse({
        ...(e.allowExec !== null && { allowExec: e.allowExec }),
        ...(e.allowUrlHosts !== null && { allowUrlHosts: e.allowUrlHosts }),
      }),
    );
}

/** Writes the log's latest policies to `dataDir` now, then follows the log; returns the stop. */
export async function followPolicies(store: Store, bus: EventBus, dataDir: string, log: Logger): Promise<() => void> {
  let writing = Promise.resolve();
  const take = (e: PolicyEvent) => {
    writing = writing
      .then(() => write(dataDir, e))
      .catch((err: unknown) =>
        log.warn({ err, seq: e.seq }, `could not write the ${e.type} of the shared log to the data dir`),
      );
  };
  // Subscribed first: an event committed while the log is read is taken after it (in seq order).
  let caughtUp = -1;
  const early: PolicyEvent[] = [];
  const unsubscribe = bus.subscribe((e) => {
    if (!carriesPolicy(e)) return;
    if (caughtUp < 0) early.push(e);
    else if (e.seq > caughtUp) take(e);
  });
  const latest = new Map<PolicyEvent['type'], PolicyEvent>();
  let after = 0;
  for (;;) {
    const page = await store.events({ service: SERVER_LOG, afterSeq: after, limit: PAGE });
    for (const e of page) if (carriesPolicy(e)) latest.set(e.type, e);
    if (page.length > 0) after = page.at(-1)!.seq;
    if (page.length < PAGE) break;
  }
  for (const e of latest.values()) take(e);
  caughtUp = after;
  for (const e of early) if (e.seq > caughtUp) take(e);
  await writing;
  return unsubscribe;
}
