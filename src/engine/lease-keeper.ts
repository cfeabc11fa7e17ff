import type { Logger } from 'pino';
import {
  holderDeadline,
  LEASE_TIMINGS,
  planLeases,
  type HeldLease,
  type LeaseTimings,
} from '../core/leases/lease-plan.ts';
import type { Fence, LeaseStore, Store } from '../store/types.ts';
import { SluiceError } from '../errors.ts';
import { messageOf } from './retry.ts';

export interface LeaseKeeperOptions {
  replica: string;
  /** Tells this process from another claiming the same replica id. */
  instance: string;
  url: string | null;
  store: Store;
  leases: LeaseStore;
  log: Logger;
  now: () => number;
  timings?: LeaseTimings;
  /** Names leased besides the store's services (a running train's log, `_train:<name>`), read every round. */
  also?: () => readonly string[];
  /** A lease was taken under `epoch`: run the service's controller under that fence. Awaited. */
  gained: (service: string, epoch: number) => Promise<void>;
  /** A lease was lost, lapsed or given up: stop acting for the service now. Awaited. */
  lost: (service: string) => Promise<void>;
}

/**
 * Keeps this replica's leases (core/leases/lease-plan.ts decides, this performs): every renew
 * period it heartbeats its replica id, reads the leases, claims, renews and drops. Without the
 * database it keeps nothing past its own deadline: the controllers of lapsed leases are stopped.
 */
export class LeaseKeeper {
  readonly #o: LeaseKeeperOptions;
  readonly #t: LeaseTimings;
  readonly #held = new Map<string, HeldLease>();
  #timer: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(o: LeaseKeeperOptions) {
    this.#o = o;
    this.#t = o.timings ?? LEASE_TIMINGS;
  }

  /** Claims the replica id (refused while another live process holds it) and starts the loop. */
  async start(): Promise<void> {
    const o = this.#o;
    if (!(await o.leases.heartbeat(o.replica, o.instance, o.url, this.#t.ttlMs))) {
      throw new SluiceError(
        'CONFLICT',
        `replica id "${o.replica}" is in use by another live sluice server on this database; give this one another --replica-id (or stop the other)`,
      );
    }
    await this.#round();
    this.#timer = setInterval(() => {
      this.#running = this.#running.then(() => this.#round());
    }, this.#t.renewMs);
  }

  /** The fence for a service this replica holds, or null. */
  fence(service: string): Fence | null {
    const h = this.#held.get(service);
    return h === undefined ? null : { holder: this.#o.replica, epoch: h.epoch };
  }

  /** Whether this replica may act for the service under `epoch` right now (its own deadline, checked before every actuation). */
  mayAct(service: string, epoch: number): boolean {
    const h = this.#held.get(service);
    return h !== undefined && h.epoch === epoch && this.#o.now() < h.deadline;
  }

  /**
   * Whether this replica does the server's own duties (the weekly report, the stale-flag digest):
   * the live replica with the lowest id. A replica that cannot read the database does none.
   */
  async leadsServerDuties(): Promise<boolean> {
    if (this.#closed) return false;
    const live = (await this.#o.leases.replicas(this.#t.ttlMs)).sort();
    return live[0] === this.#o.replica;
  }

  /** Take a service's lease now (a new service applied here); false when another replica holds it live. */
  async claimNow(service: string): Promise<boolean> {
    const sentAt = this.#o.now();
    const lease = await this.#o.leases.claim(
      service,
      this.#o.replica,
      this.#t.ttlMs,
      this.#held.get(service)?.epoch ?? null,
    );
    if (lease === null) return false;
    await this.#took(service, lease.epoch, sentAt);
    return true;
  }

  async #took(service: string, epoch: number, sentAt: number): Promise<void> {
    const before = this.#held.get(service);
    this.#held.set(service, { epoch, deadline: holderDeadline(sentAt, this.#t) });
    if (before?.epoch !== epoch) {
      if (before !== undefined) await this.#o.lost(service);
      this.#o.log.info({ service, epoch, replica: this.#o.replica }, 'took the lease');
      await this.#o.gained(service, epoch);
    }
  }

  async #drop(service: string, why: string): Promise<void> {
    if (!this.#held.delete(service)) return;
    this.#o.log.warn(
      { service, replica: this.#o.replica, why },
      'stopped acting for the service: its lease is no longer ours',
    );
    await this.#o.lost(service);
  }

  async #round(): Promise<void> {
    if (this.#closed) return;
    const o = this.#o;
    const sentAt = o.now();
    try {
      if (!(await o.leases.heartbeat(o.replica, o.instance, o.url, this.#t.ttlMs))) {
        for (const s of [...this.#held.keys()])
          await this.#drop(s, `another process took the replica id "${o.replica}"`);
        return;
      }
      const [services, leases, replicas] = await Promise.all([
        o.store.services(),
        o.leases.leases(),
        o.leases.replicas(this.#t.ttlMs),
      ]);
      const plan = planLeases({
        me: o.replica,
        now: o.now(),
        services: [...services.map((s) => s.name), ...(o.also?.() ?? [])],
        leases,
        replicas,
        held: this.#held,
        timings: this.#t,
      });
      for (const s of plan.drop) await this.#drop(s, 'lapsed or taken over');
      const claimed = await Promise.all(
        plan.claim.map(async (c) => ({
          ...c,
          lease: await o.leases.claim(c.service, o.replica, this.#t.ttlMs, c.epoch),
        })),
      );
      for (const c of claimed) {
        if (c.lease !== null) await this.#took(c.service, c.lease.epoch, sentAt);
        else await this.#drop(c.service, 'another replica holds it');
      }
      this.#wakeAtExpiry(
        leases.filter((l) => l.holder !== o.replica).map((l) => l.expiresAt),
        o.now(),
      );
    } catch (err) {
      o.log.warn(
        { replica: o.replica, err: messageOf(err) },
        'cannot reach the store to keep leases; services stop at their lease deadline',
      );
      const now = o.now();
      for (const [s, h] of [...this.#held])
        if (h.deadline <= now) await this.#drop(s, 'the database is unreachable and the lease lapsed');
    }
  }

  /**
   * A round when the first of the other replicas' leases expires before the next renewal: a dead
   * replica's services are taken as soon as their leases lapse, not up to a period later.
   */
  #wakeAtExpiry(expiries: number[], now: number): void {
    const next = Math.min(...expiries.filter((e) => e > now));
    if (this.#expiryTimer !== undefined || !Number.isFinite(next) || next - now >= this.#t.renewMs) return;
    this.#expiryTimer = setTimeout(
      () => {
        this.#expiryTimer = undefined;
        this.#running = this.#running.then(() => this.#round());
      },
      next - now + 5,
    );
  }

  /** Give one lease up (a deleted service). */
  async release(service: string): Promise<void> {
    const h = this.#held.get(service);
    if (h === undefined) return;
    this.#held.delete(service);
    await this.#o.leases.release(service, this.#o.replica, h.epoch);
  }

  /** Give every lease up (a clean stop): the other replicas take them at once, under new epochs. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#expiryTimer);
    await this.#running;
    for (const [service, h] of [...this.#held]) {
      this.#held.delete(service);
      await this.#o.lost(service);
      await this.#o.leases.release(service, this.#o.replica, h.epoch).catch(() => undefined);
    }
  }
}
