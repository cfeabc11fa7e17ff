/**
 * Which services' leases a replica claims, renews or gives up, decided from what it read of the
 * lease table, the live replicas and the time (passed in). The engine performs the plan
 * (engine/lease-keeper.ts); the store refuses any write under an epoch that is no longer current.
 */
import { stickyHash } from '../sticky-hash.ts';

/** A service's lease as read from the store (times in epoch ms). */
export interface LeaseRecord {
  service: string;
  holder: string;
  epoch: number;
  expiresAt: number;
}

/** A lease this replica holds: its epoch, and until when it may act under it by its own clock. */
export interface HeldLease {
  epoch: number;
  deadline: number;
}

export interface LeaseTimings {
  /** How long a claim or renewal holds the lease (the database's clock). */
  ttlMs: number;
  /** How often a holder renews: well inside the ttl, so one slow round trip does not lose it. */
  renewMs: number;
  /** Taken off the holder's own deadline, for the round trip and clock drift. */
  marginMs: number;
}

/** Takeover within ttl + one renew period (3 s + 0.5 s, inside 5 s); a holder keeps its lease through a 2.4 s stall of a loaded machine. */
export const LEASE_TIMINGS: LeaseTimings = { ttlMs: 3000, renewMs: 500, marginMs: 600 };

/**
 * Until when a holder may act: from when it *sent* the claim (the database set expiry later than
 * that), less the margin. Past this it stops actuating, even when it cannot reach the database.
 */
export const holderDeadline = (sentAt: number, t: LeaseTimings = LEASE_TIMINGS): number =>
  sentAt + t.ttlMs - t.marginMs;

const score = stickyHash;

/**
 * The live replica a service's lease should go to (rendezvous hashing): the same answer on every
 * replica that sees the same set, and when a replica goes only its services move.
 */
export function preferredReplica(service: string, replicas: readonly string[]): string | null {
  let best: string | null = null;
  let bestScore = -1;
  for (const r of replicas) {
    const s = score(`${r}\u0000${service}`);
    if (s > bestScore || (s === bestScore && best !== null && r < best)) {
      best = r;
      bestScore = s;
    }
  }
  return best;
}

export interface LeaseInputs {
  me: string;
  now: number;
  /** The services in the store. */
  services: readonly string[];
  leases: readonly LeaseRecord[];
  /** Live replicas, this one included. */
  replicas: readonly string[];
  held: ReadonlyMap<string, HeldLease>;
  timings?: LeaseTimings;
}

export interface LeasePlan {
  /** Claim (epoch null: take a free or lapsed one) or renew (our epoch). */
  claim: { service: string; epoch: number | null }[];
  /** Held leases past our own deadline: stop acting for them now. */
  drop: string[];
}

/**
 * One round of the lease loop. A held lease is renewed while our deadline stands and dropped once
 * it passed (never acting without a lease). A free or lapsed lease is claimed by its preferred
 * replica at once, and by any replica once it has stayed lapsed a further ttl (its preferred
 * replica is gone or stuck), so a dead replica's services move within about ttl + renew period.
 */
export function planLeases(i: LeaseInputs): LeasePlan {
  const t = i.timings ?? LEASE_TIMINGS;
  const byService = new Map(i.leases.map((l) => [l.service, l]));
  const plan: LeasePlan = { claim: [], drop: [] };
  // A held service not (yet) in the store is one being created here: kept, and renewed below.
  const services = [...i.services, ...[...i.held.keys()].filter((s) => !i.services.includes(s))];
  for (const service of services) {
    const held = i.held.get(service);
    const lease = byService.get(service);
    if (held !== undefined) {
      if (held.deadline <= i.now) plan.drop.push(service);
      // Renewed while the deadline stands; one past it claims anew (a new epoch) if it is still free.
      else if (lease === undefined || (lease.holder === i.me && lease.epoch === held.epoch))
        plan.claim.push({ service, epoch: held.epoch });
      else plan.drop.push(service); // someone else holds it now: our epoch is stale
      continue;
    }
    if (lease !== undefined && lease.expiresAt > i.now && lease.holder !== i.me) continue;
    const lapsedFor = lease === undefined ? Infinity : i.now - lease.expiresAt;
    if (preferredReplica(service, i.replicas) === i.me || lapsedFor >= t.ttlMs || lease?.holder === i.me)
      plan.claim.push({ service, epoch: null });
  }
  return plan;
}
