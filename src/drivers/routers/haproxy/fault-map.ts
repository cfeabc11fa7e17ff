/**
 * Drills' faults in a managed haproxy (docs/routers.md#faults), as pure parts: the config lines
 * that inject them, and the runtime map entries that switch them on. One entry per server slot
 * that holds the faulted revision, and one under `@<id>` (no server has that name) that holds the
 * fault while its revision has no slot: `backend/server` →
 * `status:permyriad:untilMs:setAtMs:key:id:kind:ms:by` (kind `e` error, `l` latency, `r` reset;
 * `by` is `n` for a share of requests, `h=NAME` / `c=NAME` for a cohort).
 * For every response, haproxy looks the answering server up in the map and, when the entry's
 * `untilMs` is still ahead of its own clock (`date(0,ms)`) and the draw falls below the share,
 * injects the fault: an error replaces the answer (`http-response return`), a latency holds it
 * (Lua `core.msleep`), a reset closes the client's connection with no answer (Lua `txn:done()`).
 * The draw is `rand(10000)`, or for a cohort the user's point the Lua script hashed from the
 * header or cookie in the request phase (the entry `~cohort` → `h=NAME` tells it which; one name
 * at a time). The TTL is held by haproxy itself: an entry past its time stays in the map but
 * injects nothing, whether or not a controller is alive to remove it. Hits are counted in a stick
 * table keyed by the fault's id (`gpc0`: hits; `gpt0`: the first hit's time, ms mod 2^32; the
 * entry's expiry: the last hit).
 *
 * What HAProxy 2.6 cannot do here, refused by name: a status outside FAULT_STATUSES (`return`
 * takes a literal status, so each one is a rule), a cut body (see faultRefusal), a metrics outage.
 * The upstream is called: its answer is replaced, held or dropped.
 */
import type { FaultCohort, FaultEffect, FaultRule } from '../../../core/drills/fault.ts';

/** Statuses a fault can answer behind haproxy: one `http-response return` rule each. */
export const FAULT_STATUSES = [
  400, 401, 403, 404, 405, 408, 409, 410, 413, 422, 425, 429, 500, 501, 502, 503, 504,
] as const;
/** The stick table counting each fault's hits. */
export const HITS_TABLE = 'sluice_fault_hits';
/** How long a hits entry is kept after its last hit (the stick table's `expire`). */
export const HITS_EXPIRE_MS = 3_600_000;
/** Part of the config's shape: a config written before these rules is reloaded once. */
export const FAULT_RULES_VERSION = 2;
/** The map key naming the header or cookie cohort faults hash (no `backend/server` or `@<id>` is). */
export const COHORT_KEY = '~cohort';

const found = '{ var(txn.sluice_fault) -m found }';
const hit = '{ var(txn.sluice_fault_kind) -m found }';
const kind = (k: 'e' | 'l' | 'r') => `{ var(txn.sluice_fault_kind) -m str ${k} }`;

/** The fault rules of the frontend (request and response phase) and the hits table's backend, for haproxy.cfg. */
export function faultConfig(
  mapFile: string,
  scriptFile: string,
  lua: boolean,
): { global: string[]; frontend: string[]; backends: string[] } {
  const field = (n: number, into: string, cond: string) =>
    `  http-response set-var(txn.${into}) var(txn.sluice_fault),field(${n},:) if ${cond}`;
  return {
    // A haproxy built without Lua gets no script and no rule that calls it (faultRefusal refuses what needs it).
    global: lua ? [`  lua-load-per-thread ${scriptFile}`] : [],
    frontend: [
      // Request phase: while a cohort fault is held, the Lua script hashes the user named by ~cohort.
      ...(lua
        ? [
            `  http-request set-var(txn.sluice_cohort_by) str(${COHORT_KEY}),map_str(${mapFile})`,
            '  http-request lua.sluice_cohort if { var(txn.sluice_cohort_by) -m found }',
          ]
        : []),
      '  # Drills\' faults: runtime map entries "backend/server status:permyriad:untilMs:setAtMs:key:id:kind:ms:by", ended by haproxy\'s clock.',
      '  http-response set-var(txn.sluice_srv) srv_name',
      `  http-response set-var(txn.sluice_fault) be_name,concat(/,txn.sluice_srv),map_str(${mapFile})`,
      field(3, 'sluice_fault_until', found),
      field(2, 'sluice_fault_share', found),
      field(9, 'sluice_fault_by', found),
      // The draw: rand for a share of the requests, the user's point for a cohort of the one name hashed.
      `  http-response set-var(txn.sluice_fault_draw) rand(10000) if ${found} { var(txn.sluice_fault_by) -m str n }`,
      `  http-response set-var(txn.sluice_fault_draw) var(txn.sluice_cohort_point) if ${found} { var(txn.sluice_fault_by),strcmp(txn.sluice_cohort_by) eq 0 }`,
      field(
        7,
        'sluice_fault_kind',
        `${found} { date(0,ms),sub(txn.sluice_fault_until) -m int lt 0 } { var(txn.sluice_fault_draw),sub(txn.sluice_fault_share) -m int lt 0 }`,
      ),
      // What the access-log line reports: the status of an error, `connect` for a reset (a latency is timed).
      field(1, 'sluice_fault_status', kind('e')),
      `  http-response set-var(txn.sluice_fault_status) str(connect) if ${kind('r')}`,
      field(6, 'sluice_fault_id', hit),
      `  http-response track-sc2 var(txn.sluice_fault_id) table ${HITS_TABLE} if ${hit}`,
      `  http-response sc-inc-gpc0(2) if ${hit}`,
      `  http-response sc-set-gpt0(2) date(0,ms),and(4294967295) if ${hit} { sc2_get_gpc0 eq 1 }`,
      field(8, 'sluice_fault_ms', kind('l')),
      `  http-response set-header x-sluice-fault %[var(txn.sluice_fault_id)] if ${kind('l')}`,
      ...(lua
        ? [`  http-response lua.sluice_delay if ${kind('l')}`, `  http-response lua.sluice_close if ${kind('r')}`]
        : []),
      ...FAULT_STATUSES.map(
        (s) =>
          `  http-response return status ${s} content-type text/plain string "sluice haproxy: fault injected by a drill" hdr x-sluice-fault %[var(txn.sluice_fault_id)] if ${kind('e')} { var(txn.sluice_fault_status) -m int ${s} }`,
      ),
    ],
    backends: [
      `backend ${HITS_TABLE}`,
      `  stick-table type string len 200 size 10k expire ${HITS_EXPIRE_MS}ms store gpc0,gpt0`,
    ],
  };
}

const SAFE_KEY = /^[A-Za-z0-9._-]+$/;
/** Header and cookie names a cohort fault can hash behind haproxy (they go into the map and a Lua fetch). */
const SAFE_COHORT = /^[A-Za-z0-9_.-]+$/;

/** Why haproxy cannot inject this fault, or null when it can; `lua`: whether the haproxy is built with Lua. */
export function faultRefusal(rule: Pick<FaultRule, 'key' | 'effect' | 'cohort'>, lua = true): string | null {
  const e = rule.effect;
  if (e.kind === 'abort')
    return 'a cut-body (abort) fault cannot be injected by haproxy: only a Lua service (http-request use-service) can send a head and cut its body, and it answers before haproxy picks the server, so it cannot hit one revision; use the builtin router for cut-body drills';
  if (e.kind === 'metricsOutage')
    return "a metrics outage takes the built-in proxy's metrics API down; haproxy has none";
  if (!SAFE_KEY.test(rule.key))
    return `revision key "${rule.key}" must be letters, digits and . _ - to be held in haproxy's fault map`;
  if (rule.cohort !== undefined) {
    const name = 'header' in rule.cohort ? rule.cohort.header : rule.cohort.cookie;
    if (!SAFE_COHORT.test(name))
      return `a cohort's header or cookie name must be letters, digits and _ . - behind haproxy; got "${name}"`;
  }
  if (!lua && (e.kind !== 'error' || rule.cohort !== undefined))
    return `this haproxy is built without Lua (haproxy -vv has no "Built with Lua"): ${e.kind === 'error' ? 'cohort' : e.kind} faults need Sluice's Lua script; errors: STATUS for a percent of the requests work without it`;
  if (e.kind === 'error' && !(FAULT_STATUSES as readonly number[]).includes(e.status))
    return `haproxy injects errors with one of ${FAULT_STATUSES.join(', ')}; got ${e.status}`;
  return null;
}

/** A cohort as the map holds it: `h=NAME` or `c=NAME`; `n` for a share of the requests. */
export const cohortBy = (cohort: FaultCohort | undefined): string =>
  cohort === undefined ? 'n' : 'header' in cohort ? `h=${cohort.header}` : `c=${cohort.cookie}`;

export interface FaultEntry {
  effect: Exclude<FaultEffect, { kind: 'abort' } | { kind: 'metricsOutage' }>;
  /** The share in 1/10000 of the server's answers (or of the users, for a cohort). */
  permyriad: number;
  untilMs: number;
  setAtMs: number;
  /** The revision faulted. */
  key: string;
  id: string;
  cohort?: FaultCohort;
}

export const encodeEntry = (e: FaultEntry) => {
  const [status, kind, ms] =
    e.effect.kind === 'error'
      ? [e.effect.status, 'e', 0]
      : e.effect.kind === 'latency'
        ? [0, 'l', e.effect.ms]
        : [0, 'r', 0];
  return `${status}:${e.permyriad}:${e.untilMs}:${e.setAtMs}:${e.key}:${e.id}:${kind}:${ms}:${cohortBy(e.cohort)}`;
};

export function decodeEntry(value: string): FaultEntry | null {
  const m =
    /^(\d{1,3}):(\d{1,5}):(\d+):(\d+):([A-Za-z0-9._-]+):([A-Za-z0-9._/-]+):([elr]):(\d+):(n|[hc]=[A-Za-z0-9_.-]+)$/.exec(
      value,
    );
  if (m === null) return null;
  const by = m[9]!;
  const effect: FaultEntry['effect'] =
    m[7] === 'e'
      ? { kind: 'error', status: Number(m[1]) }
      : m[7] === 'l'
        ? { kind: 'latency', ms: Number(m[8]) }
        : { kind: 'reset' };
  return {
    effect,
    permyriad: Number(m[2]),
    untilMs: Number(m[3]),
    setAtMs: Number(m[4]),
    key: m[5]!,
    id: m[6]!,
    ...(by !== 'n' && { cohort: by.startsWith('h=') ? { header: by.slice(2) } : { cookie: by.slice(2) } }),
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
