/**
 * Drills' faults in a managed haproxy (docs/routers.md#faults), as pure parts: the config lines
 * that inject them, and the runtime map entries that switch them on. One entry per server slot
 * that holds the faulted revision, and one under `@<id>` (no server has that name) that holds the
 * fault while its revision has no slot: `backend/server` → `status:permyriad:untilMs:setAtMs:key:id`.
 * For every response, haproxy looks the answering server up in the map and, when the entry's
 * `untilMs` is still ahead of its own clock (`date(0,ms)`) and `rand(10000)` falls below the
 * share, replaces the answer with the status (`http-response return`). The TTL is held by haproxy
 * itself: an entry past its time stays in the map but injects nothing, whether or not a
 * controller is alive to remove it. Hits are counted in a stick table keyed by the fault's id
 * (`gpc0`: hits; `gpt0`: the first hit's time, ms mod 2^32; the entry's expiry: the last hit).
 *
 * What HAProxy 2.6 cannot do here, refused by name: a status outside FAULT_STATUSES (`return`
 * takes a literal status, so each one is a rule), latency (no `wait` action outside Lua), a reset
 * or a cut body, cohort faults, a metrics outage. The upstream is called: its answer is replaced.
 */
import type { FaultRule } from '../../../core/drills/fault.ts';

/** Statuses a fault can answer behind haproxy: one `http-response return` rule each. */
export const FAULT_STATUSES = [
  400, 401, 403, 404, 405, 408, 409, 410, 413, 422, 425, 429, 500, 501, 502, 503, 504,
] as const;
/** The stick table counting each fault's hits. */
export const HITS_TABLE = 'sluice_fault_hits';
/** How long a hits entry is kept after its last hit (the stick table's `expire`). */
export const HITS_EXPIRE_MS = 3_600_000;
/** Part of the config's shape: a config written before faults (or with other rules) is reloaded once. */
export const FAULT_RULES_VERSION = 1;

const when = '{ var(txn.sluice_fault_status) -m found }';

/** The frontend's fault rules and the hits table's backend, for haproxy.cfg. */
export function faultConfig(mapFile: string): { frontend: string[]; backends: string[] } {
  const field = (n: number, into: string, cond: string) =>
    `  http-response set-var(txn.${into}) var(txn.sluice_fault),field(${n},:) if ${cond}`;
  return {
    frontend: [
      '  # Drills\' faults: runtime map entries "backend/server status:permyriad:untilMs:setAtMs:key:id", ended by haproxy\'s clock.',
      '  http-response set-var(txn.sluice_srv) srv_name',
      `  http-response set-var(txn.sluice_fault) be_name,concat(/,txn.sluice_srv),map_str(${mapFile})`,
      field(3, 'sluice_fault_until', '{ var(txn.sluice_fault) -m found }'),
      field(2, 'sluice_fault_share', '{ var(txn.sluice_fault) -m found }'),
      field(
        1,
        'sluice_fault_status',
        '{ var(txn.sluice_fault) -m found } { date(0,ms),sub(txn.sluice_fault_until) -m int lt 0 } { rand(10000),sub(txn.sluice_fault_share) -m int lt 0 }',
      ),
      field(6, 'sluice_fault_id', when),
      `  http-response track-sc2 var(txn.sluice_fault_id) table ${HITS_TABLE} if ${when}`,
      `  http-response sc-inc-gpc0(2) if ${when}`,
      `  http-response sc-set-gpt0(2) date(0,ms),and(4294967295) if ${when} { sc2_get_gpc0 eq 1 }`,
      ...FAULT_STATUSES.map(
        (s) =>
          `  http-response return status ${s} content-type text/plain string "sluice haproxy: fault injected by a drill" hdr x-sluice-fault %[var(txn.sluice_fault_id)] if { var(txn.sluice_fault_status) -m int ${s} }`,
      ),
    ],
    backends: [
      `backend ${HITS_TABLE}`,
      `  stick-table type string len 200 size 10k expire ${HITS_EXPIRE_MS}ms store gpc0,gpt0`,
    ],
  };
}

/** Why haproxy cannot inject this fault, or null when it can. */
const SAFE_KEY = /^[A-Za-z0-9._-]+$/;

export function faultRefusal(rule: Pick<FaultRule, 'key' | 'effect' | 'cohort'>): string | null {
  const e = rule.effect;
  if (e.kind === 'latency')
    return 'a latency fault cannot be injected by haproxy (HAProxy 2.6 has no wait action outside a Lua script); use the builtin router for latency drills';
  if (e.kind === 'reset' || e.kind === 'abort')
    return `a ${e.kind === 'reset' ? 'reset' : 'cut-body (abort)'} fault cannot be injected by haproxy; behind haproxy a fault is errors: STATUS`;
  if (e.kind === 'metricsOutage')
    return "a metrics outage takes the built-in proxy's metrics API down; haproxy has none";
  if (!SAFE_KEY.test(rule.key))
    return `revision key "${rule.key}" must be letters, digits and . _ - to be held in haproxy's fault map`;
  if (rule.cohort !== undefined)
    return 'cohort faults are not supported behind haproxy; give percent instead (a share of the revision requests)';
  if (!(FAULT_STATUSES as readonly number[]).includes(e.status))
    return `haproxy injects errors with one of ${FAULT_STATUSES.join(', ')}; got ${e.status}`;
  return null;
}

export interface FaultEntry {
  status: number;
  /** The share in 1/10000 of the server's answers. */
  permyriad: number;
  untilMs: number;
  setAtMs: number;
  /** The revision faulted. */
  key: string;
  id: string;
}

export const encodeEntry = (e: FaultEntry) => `${e.status}:${e.permyriad}:${e.untilMs}:${e.setAtMs}:${e.key}:${e.id}`;

export function decodeEntry(value: string): FaultEntry | null {
  const m = /^(\d{3}):(\d{1,5}):(\d+):(\d+):([A-Za-z0-9._-]+):([A-Za-z0-9._/-]+)$/.exec(value);
  if (m === null) return null;
  return {
    status: Number(m[1]),
    permyriad: Number(m[2]),
    untilMs: Number(m[3]),
    setAtMs: Number(m[4]),
    key: m[5]!,
    id: m[6]!,
  };
}

/** One row of `show table <HITS_TABLE>`: the fault's hits, first and last hit by haproxy's clock. */
export interface FaultHits {
  hits: number;
  firstHitAt: number | null;
  lastHitAt: number | null;
}

/** Parses `show table`; `now` is the clock the first hit's low 32 bits are put back against. */
export function parseHits(text: string, now: number): Map<string, FaultHits> {
  const out = new Map<string, FaultHits>();
  for (const line of text.split('\n')) {
    const m = /\bkey=(\S+) .*\bexp=(\d+) .*\bgpt0=(\d+) .*\bgpc0=(\d+)/.exec(line);
    if (m === null) continue;
    const hits = Number(m[4]);
    const low = now % 2 ** 32;
    const first = now - ((((low - Number(m[3])) % 2 ** 32) + 2 ** 32) % 2 ** 32);
    out.set(m[1]!, {
      hits,
      firstHitAt: hits > 0 ? first : null,
      lastHitAt: hits > 0 ? now - (HITS_EXPIRE_MS - Number(m[2])) : null,
    });
  }
  return out;
}
