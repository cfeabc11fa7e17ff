/**
 * Game days (docs/drills.md): start a drill after checking it may run, the safety lever that
 * removes every fault, the drill records, sign-off. A drill touches only the service its GameDay
 * names; production needs an approver and an open release window. At start, runs a dead
 * controller left unfinished are recorded `interrupted` (their faults ended by their lease).
 */
import type { ActionItem } from '../core/drills/events.ts';
import { METRICS_KEY } from '../core/drills/fault.ts';
import { rehearsedShare } from '../core/drills/rehearsal.ts';
import type { DrillRecord } from '../core/drills/record.ts';
import type { FaultTarget, GameDay } from '../core/drills/gameday.ts';
import { isActive } from '../core/release/state.ts';
import type { Engine } from '../engine/engine.ts';
import type { InstanceFaulting } from '../engine/service-controller.ts';
import { SluiceError } from '../errors.ts';
import { rehearsals } from '../engine/rehearsal-facts.ts';
import { releaseWindow } from '../engine/release-policy.ts';
import type { ServiceSpec } from '../spec/index.ts';
import type { Store } from '../store/types.ts';
import { DrillLog } from './drill-log.ts';
import { DrillRun } from './drill-run.ts';
import { DrillScheduler, type ScheduledDrill } from './drill-scheduler.ts';
import { type Rehearsal, rehearse } from './rehearsal-run.ts';

/** How long a fault outlives the runner that stopped renewing it. */
export const DEFAULT_LEASE_MS = 3000;
const PRODUCTION = /(^|--)(production|prod)$/;

export interface DrillsDeps {
  engine: Engine;
  store: Store;
  dataDir: string;
  /** Whether `name` is a service released through its environments (drilled only through one of them). */
  hasEnvironments: (name: string) => boolean;
  /** The spec with environments last applied for `name` (null: none), for rehearsals. */
  appliedSpec: (name: string) => ServiceSpec | null;
  roleAllows: (has: string, needs: string) => boolean;
  leaseMs?: number;
  /** How often scheduled drills are checked for what is due (1 s). */
  scheduleTickMs?: number;
}

export interface Who {
  name: string;
  role: string;
}

export class Drills {
  readonly #d: DrillsDeps;
  readonly #log: DrillLog;
  readonly #running = new Map<string, { run: DrillRun; done: Promise<unknown> }>();
  readonly #scheduler: DrillScheduler;

  private constructor(d: DrillsDeps) {
    this.#d = d;
    this.#log = new DrillLog(d.store, d.engine.bus);
    this.#scheduler = new DrillScheduler({
      log: this.#log,
      store: d.store,
      start: async (g, who) => {
        const r = await this.start(g, who, false);
        return { run: r.run };
      },
      ...(d.scheduleTickMs !== undefined && { tickMs: d.scheduleTickMs }),
      runs: (service) => d.engine.runs(service),
      bus: d.engine.bus,
    });
  }

  /** Opens the drills: runs left unfinished by a dead controller are recorded `interrupted`. */
  static async open(d: DrillsDeps): Promise<Drills> {
    const drills = new Drills(d);
    for (const r of await drills.#log.records()) {
      if (r.status !== 'running') continue;
      const ids = r.timeline.length > 0 ? await drills.#leftFaults(r) : [];
      await drills.#log.record(
        {
          type: 'drill.finished',
          drill: r.drill,
          run: r.run,
          drilled: r.service,
          verdict: 'interrupted',
          detail: `the controller stopped during the drill; its faults ended by their lease${ids.length > 0 ? ` (${ids.length} still held were removed now)` : ''}`,
          timeToDetectMs: null,
          timeToRestoreMs: null,
          score: null,
        },
        'sluice-controller',
      );
    }
    await drills.#scheduler.open();
    return drills;
  }

  /** Registers `g` to run on its schedule (`sluice gameday schedule`), replacing an earlier registration of its name. */
  async schedule(g: GameDay, who: Who): Promise<ScheduledDrill> {
    if (g.schedule === null || g.schedule === undefined)
      throw new SluiceError(
        'SPEC_INVALID',
        `spec.schedule: drill ${g.name} has no schedule; give schedule: { rrule: "FREQ=WEEKLY;BYDAY=TU;BYHOUR=10", remind: 24h, owners: [...] }, or run it with sluice gameday run`,
      );
    this.#mayDrill(g.service);
    if (PRODUCTION.test(g.service) && !this.#d.roleAllows(who.role, 'approver'))
      throw new SluiceError(
        'FORBIDDEN',
        `${who.name} (${who.role}) cannot schedule a drill in production (${g.service}): it needs an approver or admin`,
      );
    return this.#scheduler.register(g, who);
  }

  async unschedule(name: string, who: Who): Promise<void> {
    if (!(await this.#scheduler.unregister(name, who.name)))
      throw new SluiceError(
        'NOT_FOUND',
        `no scheduled drill named "${name}"; scheduled: ${
          this.schedules()
            .map((s) => s.drill)
            .join(', ') || 'none'
        }`,
      );
  }

  /** The scheduled drills, with their next run. */
  schedules(): ScheduledDrill[] {
    return this.#scheduler.list();
  }

  /** Checks what is due now (the scheduler's tick, also run every second on its own). */
  tickSchedule(): Promise<void> {
    return this.#scheduler.tick();
  }

  /** The service may be drilled at all: it exists and is one environment's service, not one with environments. */
  #mayDrill(name: string): void {
    if (this.#d.hasEnvironments(name)) {
      throw new SluiceError(
        'FORBIDDEN',
        `spec.service: ${name} is released through its environments; a drill names one environment's service, e.g. ${name}--staging`,
      );
    }
    if (!this.#d.engine.serviceNames().includes(name))
      throw new SluiceError(
        'NOT_FOUND',
        `spec.service: no service named "${name}"; drills run against a service this server runs`,
      );
  }

  /** Faults of an interrupted run still held (a lease not yet over): removed now. */
  async #leftFaults(r: DrillRecord): Promise<string[]> {
    const faults = this.#d.engine.serviceNames().includes(r.service) ? this.#d.engine.faultsOf(r.service) : undefined;
    if (faults === undefined) return [];
    const held = (await faults.list().catch(() => []))
      .filter((f) => f.id.startsWith(`${r.drill}/${r.run}/`))
      .map((f) => f.id);
    if (held.length > 0) await faults.clear(held).catch(() => []);
    return held;
  }

  /** Checks the drill may run now, records its start and runs it; `wait` resolves at its end. */
  async start(
    g: GameDay,
    who: Who,
    wait: boolean,
  ): Promise<DrillRecord | { drill: string; run: number; service: string; status: 'running' }> {
    const name = g.service;
    this.#mayDrill(name);
    const spec = (await this.#d.store.service(name))?.spec as ServiceSpec | undefined;
    if (spec === undefined || spec.spec.rollbackContract.rules.length === 0) {
      throw new SluiceError(
        'CONFLICT',
        `spec.service: ${name} has no rollback contract rules: a drill checks the contract detects its faults; give it a contract first`,
      );
    }
    const provider = (spec.spec.metrics as { provider?: string } | undefined)?.provider ?? 'builtin';
    if (provider !== 'builtin' && g.method.some((s) => s.faults.some((f) => f.target === 'metrics'))) {
      throw new SluiceError(
        'CONFLICT',
        `spec.method: a metrics fault takes the built-in proxy's metrics API down; ${name} reads its metrics from ${provider}`,
      );
    }
    if (PRODUCTION.test(name)) {
      if (!this.#d.roleAllows(who.role, 'approver'))
        throw new SluiceError(
          'FORBIDDEN',
          `${who.name} (${who.role}) cannot run a drill in production (${name}): it needs an approver or admin`,
        );
      const w = await releaseWindow(this.#d.dataDir, name, Date.now());
      if (!w.open)
        throw new SluiceError(
          'CONFLICT',
          `${name} is production and its release window is closed (${w.reason}): drills in production run inside an open window`,
        );
    }
    const overlapping = [...this.#running.values()].find((r) => r.run.service === name);
    if (overlapping !== undefined) {
      throw new SluiceError(
        'CONFLICT',
        `drill ${overlapping.run.gameDay.name} #${overlapping.run.run} is running on ${name}; one drill at a time per service (stop it: sluice gameday stop --all)`,
      );
    }
    const traffic = g.method.some((s) => s.faults.length > 0);
    const faults = this.#d.engine.faultsOf(name);
    if (faults === undefined && traffic)
      throw new SluiceError(
        'CONFLICT',
        `${name}'s router cannot inject faults; drills need the builtin router or a managed haproxy (router.listen)`,
      );
    const state = this.#d.engine.serviceState(name);
    const canary = isActive(state?.release) ? state.release.to.key : null;
    const keys = { canary, stable: state?.stable?.key ?? null, metrics: METRICS_KEY };
    const where = (i: number, j: number, parallel: boolean) =>
      `spec.method[${i}]${parallel ? `.parallel[${j}]` : ''}.fault`;
    g.method.forEach((step, i) =>
      step.faults.forEach((f, j) => {
        const at = where(i, j, step.faults.length + (step.instanceFaults?.length ?? 0) > 1);
        const key = keys[f.target];
        if (key === null) {
          throw new SluiceError(
            'CONFLICT',
            `${at}.target: ${name} has no ${f.target} revision now${f.target === 'canary' ? ' (no release in progress): start a release, then run the drill' : ''}`,
          );
        }
        const refused = faults?.refusal?.({
          key,
          effect: f.effect,
          ...(f.cohort !== undefined && { cohort: f.cohort }),
        });
        if (refused != null) throw new SluiceError('CONFLICT', `${at}: ${name}'s router: ${refused}`);
      }),
    );
    const instances = await this.#instanceHandles(g, keys);
    const run =
      (await this.#log.records()).filter((r) => r.drill === g.name).reduce((n, r) => Math.max(n, r.run), 0) + 1;
    const leaseMs = this.#d.leaseMs ?? DEFAULT_LEASE_MS;
    await this.#log.record({ type: 'drill.started', drill: g.name, run, drilled: name, gameDay: g, leaseMs }, who.name);
    const drill = new DrillRun(g, run, {
      log: this.#log,
      bus: this.#d.engine.bus,
      faults,
      keys,
      instances,
      leaseMs,
      actor: who.name,
      traffic: (keys, windowMs) => this.#d.engine.trafficOf(name, keys, windowMs),
    });
    const id = `${g.name}#${run}`;
    const done = drill.execute().finally(() => this.#running.delete(id));
    this.#running.set(id, { run: drill, done });
    if (!wait) return { drill: g.name, run, service: name, status: 'running' };
    await done;
    return this.show(g.name, run);
  }

  /** The targets' handles on the revisions whose instances `g` faults; refused when a target cannot or has too few. */
  async #instanceHandles(g: GameDay, keys: Record<FaultTarget, string | null>): Promise<Map<string, InstanceFaulting>> {
    const handles = new Map<string, InstanceFaulting>();
    for (const [i, step] of g.method.entries()) {
      const all = step.instanceFaults ?? [];
      for (const [j, f] of all.entries()) {
        const at = `spec.method[${i}]${step.faults.length + all.length > 1 ? `.parallel[${step.faults.length + j}]` : ''}.fault`;
        const key = DrillRun.instanceKey(f, keys);
        if (key === null)
          throw new SluiceError(
            'CONFLICT',
            `${at}.version: ${g.service} has no ${f.version ?? 'running'} revision now${f.version === 'canary' ? ' (no release in progress): start a release, then run the drill' : ''}`,
          );
        const handle = handles.get(key) ?? (await this.#d.engine.instanceFaultsOf(g.service, key));
        if (typeof handle === 'string') throw new SluiceError('CONFLICT', `${at}: ${g.service}'s ${handle}`);
        const running = handle.instances().length;
        if (running < f.count)
          throw new SluiceError(
            'CONFLICT',
            `${at}.${f.action}: ${f.count} instance(s) asked, but revision ${key} of ${g.service} runs ${running}`,
          );
        handles.set(key, handle);
      }
    }
    return handles;
  }

  /**
   * The safety lever: every running drill is stopped and every fault of every service's data
   * plane removed, now (twice: a renewal in flight when the first sweep ran is swept by the second).
   */
  async stopAll(who: Who): Promise<{ stopped: string[]; removed: number; ms: number }> {
    const started = performance.now();
    // The faults running drills hold now: each run's own cleanup may remove them before the sweep does.
    const held = [...this.#running.values()].flatMap((r) => [...r.run.active]);
    const stopped = [...this.#running.entries()].map(([id, r]) => {
      r.run.stop(`stopped by ${who.name} (safety lever)`);
      return id;
    });
    const sweep = async (): Promise<string[]> => {
      const controls = this.#d.engine.serviceNames().flatMap((s) => this.#d.engine.faultsOf(s) ?? []);
      const removed = await Promise.all(controls.map((c) => c.clear().catch(() => [])));
      return removed.flat().map((f) => f.id);
    };
    // Stopped instances are resumed here too, alongside the sweep, not only by each run's own cleanup.
    const [swept] = await Promise.all([sweep(), ...[...this.#running.values()].map((r) => r.run.resumeInstances())]);
    const removed = new Set([...held, ...(swept as string[])]).size;
    const ms = performance.now() - started;
    setTimeout(() => void sweep(), 200).unref();
    return { stopped, removed, ms: Math.round(ms * 10) / 10 };
  }

  async list(): Promise<DrillRecord[]> {
    return (await this.#log.records()).sort((a, b) => b.startedAt - a.startedAt);
  }

  /** One run of a drill (its last without `run`), with the service's events during it in the timeline. */
  async show(drill: string, run?: number): Promise<DrillRecord> {
    const runs = (await this.#log.records()).filter((r) => r.drill === drill);
    if (runs.length === 0) throw new SluiceError('NOT_FOUND', `no drill named "${drill}"; see sluice gameday list`);
    const r = run === undefined ? runs.at(-1)! : runs.find((x) => x.run === run);
    if (r === undefined)
      throw new SluiceError(
        'NOT_FOUND',
        `drill ${drill} has no run ${run}; its runs: ${runs.map((x) => x.run).join(', ')}`,
      );
    const until = r.finishedAt ?? Date.now();
    const service = await this.#d.store.events({ service: r.service, since: r.startedAt });
    const notable = service.filter(
      (e) =>
        e.at <= until &&
        [
          'rollback.started',
          'rollback.trafficReverted',
          'rollback.canaryStopped',
          'release.paused',
          'release.succeeded',
          'traffic.applied',
        ].includes(e.type),
    );
    const timeline = [
      ...r.timeline,
      ...notable.map((e) => ({
        at: e.at,
        type: e.type,
        text: e.type === 'rollback.started' ? `rollback started: ${e.log.trigger}` : e.type,
        actor: e.actor,
      })),
    ];
    return { ...r, timeline: timeline.sort((a, b) => a.at - b.at) };
  }

  async signOff(
    drill: string,
    run: number,
    who: Who,
    comment: string,
    actionItems: ActionItem[],
  ): Promise<DrillRecord> {
    const r = await this.show(drill, run);
    const role = r.gameDay.signOff?.role ?? 'approver';
    if (!this.#d.roleAllows(who.role, role))
      throw new SluiceError(
        'FORBIDDEN',
        `${who.name} (${who.role}) cannot sign off drill ${drill} #${run}: it needs the ${role} role`,
      );
    if (r.status === 'running')
      throw new SluiceError('CONFLICT', `drill ${drill} #${run} is still running; sign it off once it finished`);
    if (r.signOff !== null)
      throw new SluiceError('CONFLICT', `drill ${drill} #${run} was signed off by ${r.signOff.by} already`);
    await this.#log.record(
      { type: 'drill.signedOff', drill, run, drilled: r.service, role: who.role, comment, actionItems },
      who.name,
    );
    return this.show(drill, run);
  }

  /** A rollback rehearsal of `version` for `environment`, in the environment before it (rehearsal-run.ts). */
  rehearse(service: string, environment: string, version: string, who: Who): Promise<Rehearsal> {
    const busy = (name: string) => [...this.#running.values()].some((r) => r.run.service === name);
    const contractWindowMs = (name: string) => this.#d.engine.serviceState(name)?.release?.contract.windowMs ?? 30_000;
    return rehearse(
      {
        engine: this.#d.engine,
        log: this.#log,
        appliedSpec: this.#d.appliedSpec,
        leaseMs: this.#d.leaseMs ?? DEFAULT_LEASE_MS,
        busy,
        contractWindowMs,
      },
      service,
      environment,
      version,
      who.name,
    );
  }

  /** The rehearsals, and the share of releases into rehearsal-gated environments that had a passing one first. */
  async rehearsals() {
    const all = await rehearsals(this.#d.store);
    const releases = [];
    for (const name of this.#d.engine.serviceNames()) {
      const cut = name.indexOf('--');
      if (cut < 0) continue;
      const [service, environment] = [name.slice(0, cut), name.slice(cut + 2)];
      const env = this.#d.appliedSpec(service)?.spec.environments?.find((e) => e.name === environment);
      if (env?.rehearsal?.required !== true) continue;
      // A first release has nothing to roll back to: it is not counted.
      for (const r of await this.#d.store.releases(name, 1000))
        if (r.from !== null) releases.push({ service, environment, version: r.to.version, startedAt: r.startedAt });
    }
    return { ...rehearsedShare(releases, all), rehearsals: all };
  }

  /** Lets running drills finish their cleanup (their faults removed) before the server stops. */
  async close(): Promise<void> {
    this.#scheduler.close();
    for (const r of this.#running.values()) r.run.stop('the server is stopping');
    await Promise.allSettled([...this.#running.values()].map((r) => r.done));
  }
}
