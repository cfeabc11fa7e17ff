/**
 * Drills' faults in a managed haproxy, through its runtime API, with no reload (fault-map.ts has
 * the config's rules): `set`/`add map` puts an entry on every server slot that holds the faulted
 * revision, `del map` removes them, `show map` and `show table` read them back with their hits.
 * Haproxy ends each fault at its `untilMs` by its own clock; this class holds no timer and no
 * state of its own, so a dead controller's faults end at their TTL all the same.
 */
import type { ActiveFault, FaultRule } from '../../../core/drills/fault.ts';
import type { FaultControl } from '../types.ts';
import {
  type FaultEntry,
  type FaultHits,
  HITS_TABLE,
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

  constructor(socket: string, map: string, state: () => Promise<HaproxyState | null>, running: () => Promise<boolean>) {
    this.#socket = socket;
    this.#map = map;
    this.#state = state;
    this.#running = running;
  }

  /** Why haproxy cannot inject this fault, or null (drills check every fault before they start). */
  refusal(rule: Pick<FaultRule, 'key' | 'effect' | 'cohort'>): string | null {
    return faultRefusal(rule);
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

  async #batch(commands: string[]): Promise<void> {
    // A batch of runtime commands, a few at a time (one connection each batch).
    for (let i = 0; i < commands.length; i += 50) {
      const answer = await runtimeCommand(this.#socket, commands.slice(i, i + 50).join(';'));
      const bad = answer.split('\n').filter((l) => l.trim() !== '');
      if (bad.length > 0) throw new Error(`HAProxy runtime API: ${bad.join('; ')}`);
    }
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
      effect: { kind: 'error', status: e.status },
      percent: e.permyriad / 100,
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
      const why = faultRefusal(f);
      if (why !== null) throw new Error(`fault ${f.id}: ${why}`);
    }
    if (!(await this.#running())) throw new Error('haproxy is not running: no fault can be injected');
    const state = await this.#state();
    const held = await this.#held();
    const now = Date.now();
    const want = new Map<string, string>();
    const views: Held[] = [];
    for (const f of faults) {
      if (f.effect.kind !== 'error') continue;
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
      // The same fault renewed keeps when it was set (as the built-in proxy's renewal does).
      const same =
        before !== undefined &&
        before.status === f.effect.status &&
        before.permyriad === permyriad &&
        before.key === f.key;
      const entry: FaultEntry = {
        status: f.effect.status,
        permyriad,
        untilMs: now + f.ttlMs,
        setAtMs: same ? before.setAtMs : now,
        key: f.key,
        id: f.id,
      };
      for (const s of servers) want.set(s, encodeEntry(entry));
      // Slots this fault held that no longer hold its revision.
      for (const s of held.get(f.id)?.servers ?? []) if (!servers.includes(s)) want.set(s, '');
      views.push({ entry, servers });
    }
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
    await this.#batch(gone.flatMap((h) => h.servers.map((s) => `del map ${this.#map} ${s}`)));
    const hits = await this.#hits();
    await this.#batch(
      gone.filter((h) => hits.has(h.entry.id)).map((h) => `clear table ${HITS_TABLE} key ${h.entry.id}`),
    );
    return gone.map((h) => this.#view(h, hits));
  }

  async list(): Promise<ActiveFault[]> {
    if (!(await this.#running())) return [];
    const held = await this.#held();
    const now = Date.now();
    // Entries past their time inject nothing already; they are swept from the map here.
    const expired = [...held.values()].filter((h) => h.entry.untilMs <= now);
    await this.#batch(expired.flatMap((h) => h.servers.map((s) => `del map ${this.#map} ${s}`)));
    const hits = await this.#hits();
    return [...held.values()].filter((h) => h.entry.untilMs > now).map((h) => this.#view(h, hits));
  }
}
