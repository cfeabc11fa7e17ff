/** The route table the proxy serves (the core's `RouteTable`, as its admin API receives it), and its validation. */
import type { RouteBackend, RouteTable } from '../core/route-table.ts';

export type TableCheck = { ok: true; table: RouteTable } | { ok: false; message: string };

const TABLE_FIELDS = new Set(['backends', 'stickiness', 'routes', 'epoch']);
const ROUTE_FIELDS = new Set(['key', 'match']);
const BACKEND_FIELDS = new Set(['key', 'version', 'weight', 'endpoints']);
const STICKINESS_FIELDS = new Set(['header', 'cookie']);
/** RFC 7230 token: what a header or cookie name may contain. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const WEIGHT_TOLERANCE = 0.001;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unknownField(v: Record<string, unknown>, allowed: Set<string>): string | undefined {
  return Object.keys(v).find((k) => !allowed.has(k));
}

function checkEndpoint(url: unknown, where: string): string | null {
  if (typeof url !== 'string') return `${where} must be a string URL such as http://127.0.0.1:8080`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${where} "${url}" is not a URL; write e.g. http://127.0.0.1:8080`;
  }
  if (parsed.protocol !== 'http:') return `${where} "${url}" must use http:// (the proxy speaks plain HTTP upstream)`;
  if (parsed.search || parsed.hash) return `${where} "${url}" must not have a query or fragment`;
  return null;
}

function checkBackend(b: unknown, i: number, seen: Set<string>): string | null {
  const where = `backends[${i}]`;
  if (!isRecord(b)) return `${where} must be an object with key, version, weight and endpoints`;
  const extra = unknownField(b, BACKEND_FIELDS);
  if (extra !== undefined) return `${where} has unknown field "${extra}"; allowed: key, version, weight, endpoints`;
  if (typeof b.key !== 'string' || b.key === '') return `${where}.key must be a non-empty string`;
  if (seen.has(b.key)) return `${where}.key "${b.key}" is a duplicate; each backend key appears once`;
  seen.add(b.key);
  if (typeof b.version !== 'string') return `${where}.version must be a string`;
  if (typeof b.weight !== 'number' || !Number.isFinite(b.weight) || b.weight < 0 || b.weight > 100) {
    return `${where}.weight must be a number from 0 to 100`;
  }
  if (!Array.isArray(b.endpoints)) return `${where}.endpoints must be an array of http:// URLs`;
  if (b.weight > 0 && b.endpoints.length === 0) {
    return `${where} ("${b.key}") has weight ${b.weight} but no endpoints; give it endpoints or weight 0`;
  }
  const urls = new Set<string>();
  for (let j = 0; j < b.endpoints.length; j++) {
    const problem = checkEndpoint(b.endpoints[j], `${where}.endpoints[${j}]`);
    if (problem) return problem;
    const url = b.endpoints[j] as string;
    if (urls.has(url)) return `${where}.endpoints[${j}] "${url}" is a duplicate`;
    urls.add(url);
  }
  return null;
}

function checkStickiness(s: unknown): string | null {
  if (!isRecord(s)) return 'stickiness must be an object with exactly one of header or cookie';
  const extra = unknownField(s, STICKINESS_FIELDS);
  if (extra !== undefined) return `stickiness has unknown field "${extra}"; allowed: header, cookie`;
  const names = [s.header, s.cookie].filter((v) => v !== undefined);
  if (names.length !== 1) return 'stickiness must set exactly one of header or cookie';
  const name = names[0];
  if (typeof name !== 'string' || !TOKEN.test(name))
    return 'stickiness header/cookie must be a valid header or cookie name';
  return null;
}

function checkRoute(r: unknown, i: number, backends: readonly RouteBackend[]): string | null {
  const where = `routes[${i}]`;
  if (!isRecord(r)) return `${where} must be an object with key and match`;
  const extra = unknownField(r, ROUTE_FIELDS);
  if (extra !== undefined) return `${where} has unknown field "${extra}"; allowed: key, match`;
  const backend = backends.find((b) => b.key === r.key);
  if (backend === undefined)
    return `${where}.key "${String(r.key)}" names no backend; valid: ${backends.map((b) => b.key).join(', ')}`;
  if (backend.endpoints.length === 0) return `${where} routes to backend "${backend.key}", which has no endpoints`;
  const m = r.match;
  if (!isRecord(m)) return `${where}.match must be { header, value } or { cookie, value }`;
  const names = Object.keys(m).filter((k) => k !== 'value');
  if (names.length !== 1 || (names[0] !== 'header' && names[0] !== 'cookie')) {
    return `${where}.match must have exactly one of header or cookie, and value`;
  }
  const name = m[names[0]];
  if (typeof name !== 'string' || !TOKEN.test(name))
    return `${where}.match.${names[0]} must be a valid header or cookie name`;
  if (typeof m.value !== 'string' || m.value === '') return `${where}.match.value must be a non-empty string`;
  return null;
}

/** Validates an untrusted table (the body of PUT /routes, or routes.json at start). */
export function validateTable(input: unknown): TableCheck {
  if (!isRecord(input)) return { ok: false, message: 'the route table must be a JSON object with "backends"' };
  const extra = unknownField(input, TABLE_FIELDS);
  if (extra !== undefined)
    return { ok: false, message: `unknown field "${extra}"; allowed: backends, stickiness, routes, epoch` };
  if (input.epoch !== undefined && !(Number.isSafeInteger(input.epoch) && (input.epoch as number) >= 0)) {
    return {
      ok: false,
      message: `epoch must be a whole number ≥ 0 (a lease epoch), got ${JSON.stringify(input.epoch)}`,
    };
  }
  if (!Array.isArray(input.backends) || input.backends.length === 0) {
    return { ok: false, message: 'backends must be a non-empty array' };
  }
  const seen = new Set<string>();
  let sum = 0;
  for (let i = 0; i < input.backends.length; i++) {
    const problem = checkBackend(input.backends[i], i, seen);
    if (problem) return { ok: false, message: problem };
    sum += (input.backends[i] as RouteBackend).weight;
  }
  if (Math.abs(sum - 100) > WEIGHT_TOLERANCE) {
    return { ok: false, message: `backend weights sum to ${sum}; they must sum to 100` };
  }
  if (input.stickiness !== undefined) {
    const problem = checkStickiness(input.stickiness);
    if (problem) return { ok: false, message: problem };
  }
  if (input.routes !== undefined) {
    if (!Array.isArray(input.routes)) return { ok: false, message: 'routes must be an array of { key, match }' };
    for (let i = 0; i < input.routes.length; i++) {
      const problem = checkRoute(input.routes[i], i, input.backends as RouteBackend[]);
      if (problem) return { ok: false, message: problem };
    }
  }
  return { ok: true, table: input as unknown as RouteTable };
}
