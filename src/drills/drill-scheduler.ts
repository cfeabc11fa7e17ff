/**
 * Scheduled game days (docs/drills.md): a GameDay registered with `sluice gameday schedule` runs at
 * each occurrence of its rule, and its owners are reminded `remind` before each run through the
 * drilled service's notifiers (a `drill.remind` event). What is due comes from the pure
 * core/drills/schedule.ts; what was done is in the drill log, so a restarted server neither
 * reminds twice nor runs a run twice. A due run goes through the same checks as one started by
 * hand (one drill per service, production rules) as the person who registered it; a refused one
 * is recorded as skipped, with the reason.
 */
import type { ScheduledDrill } from '../views/gamedays.ts';
import { type DrillScheduleEvent, isScheduleEvent } from '../core/drills/events.ts';
import type { GameDay } from '../core/drills/gameday.ts';
import { nextDrillRun, scheduleDue } from '../core/drills/schedule.ts';
import type { ServiceEvent } from '../core/events.ts';
import type { EventBus } from '../engine/event-bus.ts';
import type { Store } from '../store/types.ts';
import { DRILL_LOG, type DrillLog } from './drill-log.ts';

export interface Registration {
  gameDay: GameDay;
  by: { name: string; role: string };
  since: number;
  lastRunAt: number | null;
  lastRemindedAt: number | null;
}

export type { ScheduledDrill };

export interface SchedulerDeps {
  log: DrillLog;
  store: Store;
  /** Starts a run (not waiting for it); throws with the reason it may not run now. */
  start: (g: GameDay, who: { name: string; role: string }) => Promise<{ run: number }>;
  now?: () => number;
  tickMs?: number;
  /** Replicated: whether this replica runs the drilled service (only its owner reminds and runs its schedule). */
  runs?: (service: string) => boolean;
  /** Replicated: schedules registered on other replicas arrive here (the registrations are then read again). */
  bus?: EventBus;
}

type Stored = Extract<ServiceEvent, DrillScheduleEvent>;

export class DrillScheduler {
  readonly #d: SchedulerDeps;
  readonly #now: () => number;
  readonly #registered = new Map<string, Registration>();
  #timer: NodeJS.Timeout | null = null;
  #ticking: Promise<void> | null = null;
  /** Another replica changed a schedule: read the registrations again before the next tick. */
  #stale = false;
  #unfollow: () => void = () => undefined;

  constructor(d: SchedulerDeps) {
    this.#d = d;
    this.#now = d.now ?? Date.now;
  }

  /** Reads the registrations and what they did from the log, then ticks every `tickMs` (1 s). */
  async open(): Promise<void> {
    await this.#read();
    this.#unfollow =
      this.#d.bus?.subscribe((e, origin) => {
        if (origin === 'replica' && isScheduleEvent(e)) this.#stale = true;
      }) ?? (() => undefined);
    this.#timer = setInterval(() => void this.tick(), this.#d.tickMs ?? 1000);
    this.#timer.unref();
  }

  async #read(): Promise<void> {
    const events = (await this.#d.store.events({ service: DRILL_LOG })).filter((e): e is Stored => isScheduleEvent(e));
    this.#registered.clear();
    for (const e of events) this.#fold(e);
  }

  #fold(e: Stored): void {
    const r = this.#registered.get(e.drill);
    switch (e.type) {
      case 'drill.scheduled':
        this.#registered.set(e.drill, {
          gameDay: e.gameDay,
          by: { name: e.actor, role: e.role },
          since: e.at,
          lastRunAt: null,
          lastRemindedAt: null,
        });
        break;
      case 'drill.unscheduled':
        this.#registered.delete(e.drill);
        break;
      case 'drill.remind':
        if (r !== undefined) r.lastRemindedAt = Math.max(r.lastRemindedAt ?? 0, e.runAt);
        break;
      case 'drill.scheduledRun':
        if (r !== undefined) r.lastRunAt = Math.max(r.lastRunAt ?? 0, e.runAt);
        break;
    }
  }

  async register(g: GameDay, by: { name: string; role: string }): Promise<ScheduledDrill> {
    await this.#record(
      { type: 'drill.scheduled', drill: g.name, drilled: g.service, gameDay: g, role: by.role },
      by.name,
    );
    return this.list().find((s) => s.drill === g.name)!;
  }

  /** False when `name` was not scheduled. */
  async unregister(name: string, by: string): Promise<boolean> {
    const r = this.#registered.get(name);
    if (r === undefined) return false;
    await this.#record({ type: 'drill.unscheduled', drill: name, drilled: r.gameDay.service }, by);
    return true;
  }

  list(): ScheduledDrill[] {
    const now = this.#now();
    return [...this.#registered.values()].map((r) => {
      const s = r.gameDay.schedule!;
      return {
        drill: r.gameDay.name,
        service: r.gameDay.service,
        rrule: s.rrule,
        timeZone: s.timeZone,
        remindMs: s.remindMs,
        owners: s.owners,
        by: r.by.name,
        nextRunAt: nextDrillRun(s, now),
      };
    });
  }

  /** Sends the reminders and starts the runs due now; one tick at a time. */
  tick(): Promise<void> {
    this.#ticking ??= this.#tick().finally(() => (this.#ticking = null));
    return this.#ticking;
  }

  async #tick(): Promise<void> {
    if (this.#stale) {
      this.#stale = false;
      await this.#read();
    }
    const now = this.#now();
    for (const r of [...this.#registered.values()]) {
      const g = r.gameDay;
      if (this.#d.runs?.(g.service) === false) continue;
      const due = scheduleDue(g.schedule!, r, now);
      const named = { drill: g.name, drilled: g.service };
      if (due.remind !== null)
        await this.#record(
          { type: 'drill.remind', ...named, runAt: due.remind.at, owners: g.schedule!.owners },
          'sluice-scheduler',
        ).catch(() => undefined);
      if (due.run === null) continue;
      const runAt = due.run.at;
      let outcome: { run: number | null; reason: string };
      if (due.run.late) {
        outcome = {
          run: null,
          reason: `the server was not running when it came due; the next run is ${due.next === null ? 'none' : new Date(due.next).toISOString()}`,
        };
      } else {
        try {
          const started = await this.#d.start(g, { name: `${r.by.name} (scheduled)`, role: r.by.role });
          outcome = { run: started.run, reason: 'due' };
        } catch (err) {
          outcome = { run: null, reason: (err as Error).message };
        }
      }
      await this.#record(
        {
          type: 'drill.scheduledRun',
          ...named,
          runAt,
          outcome: outcome.run === null ? 'skipped' : 'started',
          ...outcome,
        },
        'sluice-scheduler',
      ).catch(() => undefined);
    }
  }

  async #record(e: DrillScheduleEvent, actor: string): Promise<void> {
    await this.#d.log.record(e, actor);
    this.#fold({ ...e, at: this.#now(), actor } as Stored);
  }

  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#unfollow();
  }
}
