/**
 * A fault the data plane injects for a drill: what happens to a request (an error status, a
 * connection reset, added latency, a body cut short), to which of one backend's requests (a
 * percentage of them, or of the users in a header/cookie cohort), and for how long. The proxy
 * holds the TTL itself, so a fault never outlives the controller that set it.
 */

/** What a faulted request gets. */
export type FaultEffect =
  /** The proxy answers `status` itself; the upstream is not called. */
  | { kind: 'error'; status: number }
  /** The client's connection is reset (TCP RST) before any answer. */
  | { kind: 'reset' }
  /** The request is held `ms` before it is forwarded. */
  | { kind: 'latency'; ms: number }
  /** A 200 head promising a body that never arrives whole: the connection is cut after the head. */
  | { kind: 'abort' }
  /** The data plane's metrics API answers 503 (the metrics backend is down); traffic is untouched. Key `*`. */
  | { kind: 'metricsOutage' };

export type FaultEffectKind = FaultEffect['kind'];

/** Which requests a cohort fault picks: those whose header or cookie value hashes below `percent`. */
export type FaultCohort = { header: string } | { cookie: string };

/** One fault as the proxy's admin API takes it (PUT /faults). */
export interface FaultRule {
  /** Unique among the proxy's faults: a drill names its faults `<drill>/<run>/<n>`. */
  id: string;
  /** The backend key (revision) whose requests are faulted. */
  key: string;
  effect: FaultEffect;
  /** Share of the key's requests (or, with `cohort`, of its users), in percent: 0 < percent ≤ 100. */
  percent: number;
  cohort?: FaultCohort;
  /** The proxy drops the fault this long after it took it (1 ms … 1 h). */
  ttlMs: number;
}

/** A fault as the proxy serves it back (GET /faults): the rule, when it ends, and what it hit. */
export interface ActiveFault extends FaultRule {
  setAt: number;
  expiresAt: number;
  hits: number;
  /** The proxy's clock at the first and last request the fault hit (null: none yet). */
  firstHitAt: number | null;
  lastHitAt: number | null;
}

export const MAX_FAULT_TTL_MS = 3_600_000;
/** The key of a metricsOutage fault: it hits the metrics API, no revision's traffic. */
export const METRICS_KEY = '*';
export const MAX_FAULT_LATENCY_MS = 120_000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;

type Check<T> = { ok: true; value: T } | { ok: false; message: string };
const refuse = (message: string): { ok: false; message: string } => ({ ok: false, message });

function checkEffect(e: unknown, at: string): Check<FaultEffect> {
  if (typeof e !== 'object' || e === null) return refuse(`${at} must be an object { kind: error|reset|latency|abort }`);
  const o = e as Record<string, unknown>;
  switch (o.kind) {
    case 'error':
      if (!Number.isInteger(o.status) || (o.status as number) < 400 || (o.status as number) > 599) {
        return refuse(`${at}.status must be an HTTP error status 400..599, got ${JSON.stringify(o.status)}`);
      }
      return { ok: true, value: { kind: 'error', status: o.status as number } };
    case 'latency':
      if (!Number.isInteger(o.ms) || (o.ms as number) < 1 || (o.ms as number) > MAX_FAULT_LATENCY_MS) {
        return refuse(
          `${at}.ms must be a whole number of milliseconds 1..${MAX_FAULT_LATENCY_MS}, got ${JSON.stringify(o.ms)}`,
        );
      }
      return { ok: true, value: { kind: 'latency', ms: o.ms as number } };
    case 'reset':
    case 'abort':
    case 'metricsOutage':
      return { ok: true, value: { kind: o.kind } };
    default:
      return refuse(`${at}.kind must be error, reset, latency, abort or metricsOutage, got ${JSON.stringify(o.kind)}`);
  }
}

function checkCohort(c: unknown, at: string): Check<FaultCohort> {
  if (typeof c !== 'object' || c === null) return refuse(`${at} must be { header: NAME } or { cookie: NAME }`);
  const o = c as Record<string, unknown>;
  const keys = ['header', 'cookie'].filter((k) => o[k] !== undefined);
  if (keys.length !== 1)
    return refuse(`${at} needs exactly one key to hash users by: { header: NAME } or { cookie: NAME }`);
  const name = o[keys[0]!];
  if (typeof name !== 'string' || !TOKEN.test(name))
    return refuse(`${at}.${keys[0]} must be a header or cookie name, got ${JSON.stringify(name)}`);
  return { ok: true, value: keys[0] === 'header' ? { header: name.toLowerCase() } : { cookie: name } };
}

/** Validates one fault rule as it arrives at the proxy; the message names the field, what came and what is valid. */
export function checkFaultRule(input: unknown, at = 'fault'): Check<FaultRule> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return refuse(`${at} must be an object`);
  const o = input as Record<string, unknown>;
  if (typeof o.id !== 'string' || !NAME.test(o.id))
    return refuse(`${at}.id must be a name of letters, digits and . _ / - (at most 200), got ${JSON.stringify(o.id)}`);
  if (typeof o.key !== 'string' || o.key === '')
    return refuse(`${at}.key must name a backend key, got ${JSON.stringify(o.key)}`);
  const effect = checkEffect(o.effect, `${at}.effect`);
  if (!effect.ok) return effect;
  if ((effect.value.kind === 'metricsOutage') !== (o.key === METRICS_KEY)) {
    return refuse(
      `${at}.key: a metricsOutage fault takes key "${METRICS_KEY}" (the metrics API, not a revision), and only it does; got ${JSON.stringify(o.key)} with ${effect.value.kind}`,
    );
  }
  if (typeof o.percent !== 'number' || !(o.percent > 0 && o.percent <= 100)) {
    return refuse(`${at}.percent must be more than 0 and at most 100, got ${JSON.stringify(o.percent)}`);
  }
  if (!Number.isInteger(o.ttlMs) || (o.ttlMs as number) < 1 || (o.ttlMs as number) > MAX_FAULT_TTL_MS) {
    return refuse(
      `${at}.ttlMs must be a whole number of milliseconds 1..${MAX_FAULT_TTL_MS} (a fault always ends), got ${JSON.stringify(o.ttlMs)}`,
    );
  }
  const rule: FaultRule = { id: o.id, key: o.key, effect: effect.value, percent: o.percent, ttlMs: o.ttlMs as number };
  if (o.cohort !== undefined) {
    const cohort = checkCohort(o.cohort, `${at}.cohort`);
    if (!cohort.ok) return cohort;
    rule.cohort = cohort.value;
  }
  return { ok: true, value: rule };
}

/** Validates a list of rules (PUT /faults); ids must be unique within it. */
export function checkFaultRules(input: unknown): Check<FaultRule[]> {
  if (!Array.isArray(input)) return refuse('faults must be a list of fault rules');
  const out: FaultRule[] = [];
  const ids = new Set<string>();
  for (let i = 0; i < input.length; i++) {
    const r = checkFaultRule(input[i], `faults[${i}]`);
    if (!r.ok) return r;
    if (ids.has(r.value.id)) return refuse(`faults[${i}].id "${r.value.id}" is given twice`);
    ids.add(r.value.id);
    out.push(r.value);
  }
  return { ok: true, value: out };
}

/** One line for a timeline: "503 for 10% of revision 2's requests". */
export function describeFault(rule: Pick<FaultRule, 'key' | 'effect' | 'percent' | 'cohort'>): string {
  const e = rule.effect;
  if (e.kind === 'metricsOutage') return 'metrics API down';
  const what =
    e.kind === 'error'
      ? `${e.status}`
      : e.kind === 'latency'
        ? `+${e.ms} ms`
        : e.kind === 'reset'
          ? 'connection reset'
          : 'aborted body';
  const whom =
    rule.cohort === undefined
      ? `${rule.percent}% of revision ${rule.key}'s requests`
      : `${rule.percent}% of revision ${rule.key}'s users by ${'header' in rule.cohort ? `header ${rule.cohort.header}` : `cookie ${rule.cohort.cookie}`}`;
  return `${what} for ${whom}`;
}
