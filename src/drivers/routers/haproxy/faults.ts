/**
 * Drills' faults in a managed haproxy, through its runtime API, with no reload (fault-map.ts has
 * the config's rules, fault-script.ts the Lua they call): `set`/`add map` puts an entry on every
 * server slot that holds the faulted revision (and `~cohort` while a cohort fault is held),
 * `del map` removes them, `show map` and `show table` read them back with their hits.
 * Haproxy ends each fault at its `untilMs` by its own clock; this class holds no timer and no
 * state of its own, so a dead controller's faults end at their TTL all the same.
 */
import type { ActiveFault, FaultRule } from '../../../core/drills/fault.ts';
import type { FaultControl } from '../types.ts';
import {
  COHORT_KEY,
  type FaultEntry,
  type FaultHits,
  HITS_TABLE,
  cohortBy,
  decodeEntry,
  encodeEntry,
  faultRefusal,
  parseHits,
} from './fault-map.ts';
import { routeBackend } from './config-file.ts';
import { runtimeCommand, showMap } from './runtime-api.ts';
import type { HaproxyState } from './state.ts';

interface Held {
  entry: FaultEntry;
  servers: string[];
}

/** A map key no `backend/server` is: one per fault, so a fault is held while its revision has no server slot. */
const anchor = (id: string) => `@${id}`;

export class HaproxyFaults implements FaultControl {
  readonly #socket: string;
  readonly #map: string;
  readonly #state: () => Promise<HaproxyState | null>;
  readonly #running: () => Promise<boolean>;
  readonly #lua: () => boolean;

  constructor(
    socket: string,
    map: string,
    state: () => Promise<HaproxyState | null>,
    running: () => Promise<boolean>,
    lua: () => boolean = () => true,
  ) {
    this.#socket = socket;
    this.#map = map;
    this.#state = state;
    this.#running = running;
    this.#lua = lua;
  }

  /** Why haproxy cannot inject this fault, or null (drills check every fault before they start). */
  refusal(rule: Pick<FaultRule, 'key' | 'effect' | 'cohort'>): string | null {
    return faultRefusal(rule, this.#lua());
  }

  /** The server slots (`backend/server`) holding the endpoints of revision `key` now. */
  static slotsOf(state: HaproxyState, key: string): string[] {
    const endpoints = new Set(state.table?.backends.find((b) => b.key === key)?.endpoints ?? []);
    const out: string[] = [];
    const add = (backend: string, assignment: Record<string, string>) => {
      for (const [slot, url] of Object.entries(assignment)) if (endpoints.has(url)) out.push(`${backend}/${slot}`);
    };
    add(state.backend, state.main);
    state.routes.forEach((a, i) => add(routeBackend(i), a));
    return out;
  }

  /** The faults in haproxy's map now, by id (a fault spans the slots of its revision). */
  async #held(): Promise<Map<string, Held>> {
    const map = await showMap(this.#socket, this.#map);
    const out = new Map<string, Held>();
    for (const [server, value] of map) {
      const entry = decodeEntry(value);
      if (entry === null) continue;
      const held = out.get(entry.id) ?? { entry, servers: [] };
      out.set(entry.id, held);
      held.servers.push(server);
    }
    return out;
  }

  async #batch(commands: string[], ignore?: RegExp): Promise<void> {
    // A batch of runtime commands, a few at a time (one connection each batch).
    for (let i = 0; i < commands.length; i += 50) {
      const answer = await runtimeCommand(this.#socket, commands.slice(i, i + 50).join(';'));
      const bad = answer.split('\n').filter((l) => l.trim() !== '' && !(ignore?.test(l) ?? false));
      if (bad.length > 0) throw new Error(`HAProxy runtime API: ${bad.join('; ')}`);
    }
  }

  /** Removes `~cohort` once no fault `kept` hashes users (the request phase then calls no Lua). */
  async #cohortLeft(kept: Held[]): Promise<string[]> {
    if (kept.some((h) => h.entry.cohort !== undefined)) return [];
    return (await showMap(this.#socket, this.#map)).has(COHORT_KEY) ? [`del map ${this.#map} ${COHORT_KEY}`] : [];
  }

  async #hits(): Promise<Map<string, FaultHits>> {
    return parseHits(await runtimeCommand(this.#socket, `show table ${HITS_TABLE}`), Date.now());
  }

  #view(held: Held, hits: ReadonlyMap<string, FaultHits>): ActiveFault {
    const e = held.entry;
    const h = hits.get(e.id);
    return {
      id: e.id,
      key: e.key,
      effect: e.effect,
      percent: e.permyriad / 100,
      ...(e.cohort !== undefined && { cohort: e.cohort }),
      ttlMs: e.untilMs - e.setAtMs,
      setAt: e.setAtMs,
      expiresAt: e.untilMs,
      hits: h?.hits ?? 0,
      firstHitAt: h?.firstHitAt ?? null,
      lastHitAt: h?.lastHitAt ?? null,
    };
  }

  async set(faults: FaultRule[]): Promise<ActiveFault[]> {
    for (const f of faults) {
      const why = this.refusal(f);
      if (why !== null) throw new Error(`fault ${f.id}: ${why}`);
    }
    if (!(await this.#running())) throw new Error('haproxy is not running: no fault can be injected');
    const state = await this.#state();
    const held = await this.#held();
    const now = Date.now();
    const want = new Map<string, string>();
    const views: Held[] = [];
    for (const f of faults) {
      const effect = f.effect;
      if (effect.kind === 'abort' || effect.kind === 'metricsOutage') continue;
      // The anchor holds the fault when its revision has no slot (yet, or any more: a reverted canary).
      const servers = [anchor(f.id), ...(state === null ? [] : HaproxyFaults.slotsOf(state, f.key))];
      const other = [...held.values()].find(
        (h) => h.entry.id !== f.id && h.entry.untilMs > now && h.servers.some((s) => servers.includes(s)),
      );
      if (other !== undefined || faults.some((g) => g !== f && g.key === f.key)) {
        throw new Error(
          `fault ${f.id}: revision ${f.key} already has fault ${other?.entry.id ?? faults.find((g) => g !== f && g.key === f.key)!.id}; behind haproxy a revision takes one fault at a time`,
        );
      }
      const before = held.get(f.id)?.entry;
      const permyriad = Math.max(1, Math.round(f.percent * 100));
      const entry: FaultEntry = {
        effect,
        permyriad,
        untilMs: now + f.ttlMs,
        setAtMs: now,
        key: f.key,
        id: f.id,
        ...(f.cohort !== undefined && { cohort: f.cohort }),
      };
      // The same fault renewed keeps when it was set (as the built-in proxy's renewal does).
      if (
        before !== undefined &&
        encodeEntry({ ...before, untilMs: 0, setAtMs: 0 }) === encodeEntry({ ...entry, untilMs: 0, setAtMs: 0 })
      )
        entry.setAtMs = before.setAtMs;
      for (const s of servers) want.set(s, encodeEntry(entry));
      // Slots this fault held that no longer hold its revision.
      for (const s of held.get(f.id)?.servers ?? []) if (!servers.includes(s)) want.set(s, '');
      views.push({ entry, servers });
    }
    // Cohort faults held at once hash one header or cookie (the request phase hashes one name).
    const cohorts = [
      ...[...held.values()].filter((h) => h.entry.untilMs > now && !views.some((v) => v.entry.id === h.entry.id)),
      ...views,
    ].filter((h) => h.entry.cohort !== undefined);
    const names = [...new Set(cohorts.map((h) => cohortBy(h.entry.cohort)))];
    if (names.length > 1) {
      throw new Error(
        `fault ${cohorts.at(-1)!.entry.id}: cohort faults held at once behind haproxy hash one header or cookie; ${cohorts[0]!.entry.id} already hashes ${names[0]}, this one ${names.at(-1)}`,
      );
    }
    if (names.length === 1) want.set(COHORT_KEY, names[0]!);
    const present = await showMap(this.#socket, this.#map);
    const commands = [...want].map(([server, value]) =>
      value === ''
        ? `del map ${this.#map} ${server}`
        : present.has(server)
          ? `set map ${this.#map} ${server} ${value}`
          : `add map ${this.#map} ${server} ${value}`,
    );
    await this.#batch(commands);
    const after = await showMap(this.#socket, this.#map);
    for (const [server, value] of want) {
      if (value !== '' && after.get(server) !== value)
        throw new Error(`HAProxy map ${this.#map}: ${server} holds ${after.get(server) ?? 'nothing'}, want ${value}`);
    }
    const hits = await this.#hits();
    return views.map((v) => this.#view(v, hits));
  }

  async clear(ids?: string[]): Promise<ActiveFault[]> {
    if (!(await this.#running())) return [];
    const held = await this.#held();
    const gone = [...held.values()].filter((h) => ids === undefined || ids.includes(h.entry.id));
    const kept = [...held.values()].filter((h) => !gone.includes(h));
    await this.#batch([
      ...gone.flatMap((h) => h.servers.map((s) => `del map ${this.#map} ${s}`)),
      ...(await this.#cohortLeft(kept)),
    ]);
    const hits = await this.#hits();
    await this.#batch(
      gone.filter((h) => hits.has(h.entry.id)).map((h) => `clear table ${HITS_TABLE} key ${h.entry.id}`),
      // A request still held by a latency fault tracks its hits entry: that entry stays until it expires.
      /Entry currently in use/,
    );
    return gone.map((h) => this.#view(h, hits));
  }

  async list(): Promise<ActiveFault[]> {
    if (!(await this.#running())) return [];
    const held = await this.#held();
    const now = Date.now();
    // Entries past their time inject nothing already; they are swept from the map here.
    const expired = [...held.values()].filter((h) => h.entry.untilMs <= now);
    const live = [...held.values()].filter((h) => h.entry.untilMs > now);
    await this.#batch([
      ...expired.flatMap((h) => h.servers.map((s) => `del map ${this.#map} ${s}`)),
      ...(await this.#cohortLeft(live)),
    ]);
    const hits = await this.#hits();
    return live.map((h) => this.#view(h, hits));
  }
}
