/**
 * A drill's instance faults (docs/drills.md): kill, stop and restart instances through the
 * service's target, each recorded as a `drill.instanceFault` event. Every stopped instance is
 * resumed: when its `for` ends, when the step ends for any reason, and by the safety lever
 * (`resumeAll`, idempotent). After its fault each instance is polled until it answers HTTP again,
 * which is when it counts as restored (drillTimes in core/drills/record.ts).
 */
import http from 'node:http';
import type { DrillEvent, InstanceFault } from '../core/drills/events.ts';
import type { FaultedInstance } from '../core/drills/record.ts';
import type { Instance } from '../core/types.ts';
import type { InstanceFaulting } from '../engine/service-controller.ts';

const POLL_MS = 50;
/** How long a faulted instance is watched for its answers after its step ended. */
const WATCH_AFTER_MS = 10_000;

type Record = (
  event: Extract<DrillEvent, { type: 'drill.instanceFault' | 'drill.instanceAnswering' }>,
) => Promise<void>;
type Named = { drill: string; run: number; drilled: string };

interface Faulted extends FaultedInstance {
  instance: Instance;
  handle: InstanceFaulting;
  /** Polling for answers starts once this is set (a stopped instance: at its resume). */
  watching: boolean;
}

export class InstanceFaulter {
  readonly #record: Record;
  readonly #named: Named;
  readonly #faulted: Faulted[] = [];
  /** Stopped and not yet resumed; an entry is taken out before its resume is sent, so it is sent once. */
  readonly #stopped = new Map<string, { tag: string; step: number; key: string; faulted: Faulted }>();
  #closed = false;
  #poller: NodeJS.Timeout | null = null;

  constructor(named: Named, record: Record) {
    this.#named = named;
    this.#record = record;
  }

  /** The instances faulted so far, for the run's figures. */
  get faulted(): FaultedInstance[] {
    return this.#faulted.map(({ key, at, answeringAt }) => ({ key, at, answeringAt }));
  }

  /**
   * Does `action` to the first `count` instances of revision `key` (`tag` names the fault, for its
   * resume); a target's failure is recorded, then thrown.
   */
  async apply(
    tag: string,
    step: number,
    key: string,
    handle: InstanceFaulting,
    action: 'kill' | 'stop' | 'restart',
    count: number,
    /** A stop's `for`: the target resumes it then by itself, should this controller die first. */
    ttlMs?: number,
  ): Promise<void> {
    const instances = handle.instances().slice(0, count);
    const at = Date.now();
    const faulted = instances.map((instance): Faulted => {
      const f = { key, at, answeringAt: null, instance, handle, watching: action !== 'stop' };
      this.#faulted.push(f);
      if (action === 'stop') this.#stopped.set(instance.id, { tag, step, key, faulted: f });
      return f;
    });
    // A restart resolves once the instance is ready again: it is watched from its return.
    const results = await Promise.allSettled(faulted.map((f) => handle.fault(f.instance, action, ttlMs)));
    await this.#outcome(step, action, key, instances, results);
    this.#poll();
  }

  /** Resumes the instances the fault `tag` stopped (all of them without it). Never throws; failures are recorded. */
  async resume(tag?: string): Promise<void> {
    const due = [...this.#stopped.entries()].filter(([, s]) => tag === undefined || s.tag === tag);
    for (const [id] of due) this.#stopped.delete(id);
    const byKey = new Map<string, { step: number; faulted: Faulted[] }>();
    for (const [, s] of due) {
      const group = byKey.get(s.key) ?? { step: s.step, faulted: [] };
      group.faulted.push(s.faulted);
      byKey.set(s.key, group);
    }
    await Promise.all(
      [...byKey.entries()].map(async ([key, g]) => {
        const results = await Promise.allSettled(g.faulted.map((f) => f.handle.fault(f.instance, 'resume')));
        for (const f of g.faulted) f.watching = true;
        await this.#outcome(
          g.step,
          'resume',
          key,
          g.faulted.map((f) => f.instance),
          results,
        ).catch(() => undefined);
      }),
    );
    this.#poll();
  }

  /**
   * After the run: resume anything still stopped, watch those not `restored` otherwise (e.g. by a
   * revert of their traffic) for their answers a little longer, then stop polling.
   */
  async close(restored: (f: FaultedInstance) => boolean): Promise<void> {
    await this.resume();
    const until = Date.now() + WATCH_AFTER_MS;
    const waiting = () => this.#faulted.some((f) => f.answeringAt === null && !restored(f));
    while (waiting() && Date.now() < until && !this.#closed) await new Promise((r) => setTimeout(r, POLL_MS));
    this.#closed = true;
    if (this.#poller !== null) clearTimeout(this.#poller);
  }

  /** Stop watching for answers now (the run was stopped: no one waits for the figure). */
  abandonWatch(): void {
    this.#closed = true;
  }

  async #outcome(
    step: number,
    action: InstanceFault,
    key: string,
    instances: Instance[],
    results: PromiseSettledResult<void>[],
  ): Promise<void> {
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [[instances[i]!, r.reason as Error]] : []));
    const ok = instances.filter((_, i) => results[i]!.status === 'fulfilled').map((i) => i.id);
    const base = { type: 'drill.instanceFault', ...this.#named, step, action, key } as const;
    if (ok.length > 0) await this.#record({ ...base, instances: ok });
    for (const [instance, err] of failed as [Instance, Error][])
      await this.#record({ ...base, instances: [instance.id], error: err.message });
    if (failed.length > 0 && action !== 'resume')
      throw new Error(`could not ${action} instance(s) of revision ${key}: ${(failed[0]![1] as Error).message}`);
  }

  #poll(): void {
    if (this.#poller !== null || this.#closed) return;
    const tick = async () => {
      const waiting = this.#faulted.filter((f) => f.watching && f.answeringAt === null);
      await Promise.all(
        waiting.map(async (f) => {
          if (!(await answers(f.instance.url))) return;
          f.answeringAt = Date.now();
          await this.#record({
            type: 'drill.instanceAnswering',
            ...this.#named,
            key: f.key,
            instance: f.instance.id,
          }).catch(() => undefined);
        }),
      );
      this.#poller = null;
      if (!this.#closed && this.#faulted.some((f) => f.answeringAt === null)) {
        this.#poller = setTimeout(() => void tick(), POLL_MS);
        this.#poller.unref();
      }
    };
    this.#poller = setTimeout(() => void tick(), POLL_MS);
    this.#poller.unref();
  }
}

/** Whether `url` gives any HTTP answer within a short time (the instance is up, whatever it says). */
function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 500, headers: { connection: 'close' } }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
