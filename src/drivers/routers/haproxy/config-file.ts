/**
 * The haproxy.cfg of managed mode, as a pure function of its shape (what needs a reload to
 * change: listen address, stickiness, the header/cookie names routes look at, slot counts) and of
 * the current server states (baked in, so a restarted haproxy serves the last table at once).
 * Weights, server addresses and route values change at run time, without a reload.
 */
import { HEARTBEAT_PATH, haproxyLogFormat, sourceName } from '../../access-log.ts';
import type { HeaderRoute, RouteTable } from '../types.ts';
import type { SlotTarget } from './layout.ts';
import { PARKED } from './layout.ts';
import { FAULT_RULES_VERSION, faultConfig } from './fault-map.ts';

export interface RouteMatchName {
  kind: 'header' | 'cookie';
  name: string;
}

export interface HaproxyShape {
  listen: string;
  stickiness: { header?: string; cookie?: string } | undefined;
  /** The header/cookie names cohort routes look at, in the order they are checked; one map file each. */
  matches: RouteMatchName[];
  mainSlots: number;
  routeBackends: number;
  routeSlots: number;
  upstreamTimeoutMs: number;
  /** Where haproxy sends one line per request (syslog over UDP, raw), or absent. */
  accessLog?: string | undefined;
  /** The version of the drills' fault rules in the config (fault-map.ts); absent in configs written before them. */
  faults?: number;
  /** Whether the haproxy is built with Lua, so the config loads the faults' script (absent: written before it mattered). */
  lua?: boolean;
}

export interface HaproxyFiles {
  dir: string;
  socket: string;
  mapFile: (matchIndex: number) => string;
  /** The drills' fault map (runtime entries only: the file on disk stays empty). */
  faultMap: string;
  /** The Lua script of the faults rules cannot inject themselves (fault-script.ts). */
  faultScript: string;
}

/** Names safe inside haproxy.cfg and in runtime commands (no quotes, comment signs, separators). */
export const SAFE_NAME = /^[A-Za-z0-9_.-]+$/;
export const SAFE_VALUE = /^[A-Za-z0-9_.~:@+=/!*-]+$/;

export const mainSlot = (i: number) => `s${i}`;
export const routeBackend = (i: number) => `route${i}`;
export const routeSlot = (i: number) => `r${i}`;
export const slotNames = (count: number, name: (i: number) => string) =>
  Array.from({ length: count }, (_, i) => name(i));

export const matchOf = (r: HeaderRoute): RouteMatchName =>
  'header' in r.match
    ? { kind: 'header', name: r.match.header.toLowerCase() }
    : { kind: 'cookie', name: r.match.cookie };

/** The name a managed haproxy writes in its log lines: its listen address. */
export const logSource = (listen: string) => sourceName(`haproxy-${listen}`);
const roundUp = (n: number, min: number) => Math.max(min, 2 ** Math.ceil(Math.log2(Math.max(1, n))));

/** The shape a table needs; `running` is kept when it already fits, so a weight change never reloads. */
export function shapeFor(
  table: RouteTable,
  base: {
    listen: string;
    upstreamTimeoutMs: number;
    stickiness: HaproxyShape['stickiness'];
    accessLog?: string | undefined;
    lua: boolean;
  },
  running: HaproxyShape | null,
): HaproxyShape {
  const routes = table.routes ?? [];
  const matches: RouteMatchName[] = [];
  for (const m of routes.map(matchOf)) {
    if (!matches.some((x) => x.kind === m.kind && x.name === m.name)) matches.push(m);
  }
  const endpoints = table.backends.reduce((n, b) => n + b.endpoints.length, 0);
  const routeEndpoints = Math.max(
    0,
    ...routes.map((r) => table.backends.find((b) => b.key === r.key)?.endpoints.length ?? 0),
  );
  const fits =
    running !== null &&
    running.listen === base.listen &&
    running.upstreamTimeoutMs === base.upstreamTimeoutMs &&
    running.accessLog === base.accessLog &&
    running.faults === FAULT_RULES_VERSION &&
    running.lua === base.lua &&
    JSON.stringify(running.stickiness ?? null) === JSON.stringify(base.stickiness ?? null) &&
    matches.every((m) => running.matches.some((x) => x.kind === m.kind && x.name === m.name)) &&
    running.mainSlots >= endpoints &&
    running.routeBackends >= routes.length &&
    running.routeSlots >= routeEndpoints;
  if (fits) return running;
  return {
    ...base,
    faults: FAULT_RULES_VERSION,
    matches,
    mainSlots: roundUp(endpoints, 8),
    routeBackends: Math.max(2, routes.length),
    routeSlots: roundUp(routeEndpoints, 4),
  };
}

function serverLines(targets: readonly SlotTarget[]): string[] {
  return targets.map((t) =>
    t.endpoint === null
      ? `  server ${t.server} ${PARKED.addr}:${PARKED.port} weight 0 disabled`
      : `  server ${t.server} ${t.endpoint.addr.includes(':') ? `[${t.endpoint.addr}]` : t.endpoint.addr}:${t.endpoint.port} weight ${t.endpoint.weight}`,
  );
}

function balance(stickiness: HaproxyShape['stickiness']): string[] {
  if (stickiness?.header !== undefined) return [`  balance hdr(${stickiness.header})`, '  hash-type consistent'];
  if (stickiness?.cookie !== undefined)
    return [`  balance hash req.cook(${stickiness.cookie})`, '  hash-type consistent'];
  return ['  balance roundrobin'];
}

export function renderConfig(
  shape: HaproxyShape,
  files: HaproxyFiles,
  generation: number,
  servers: { main: readonly SlotTarget[]; routes: ReadonlyArray<readonly SlotTarget[]> },
): string {
  const faults = faultConfig(files.faultMap, files.faultScript, shape.lua ?? true);
  const lines = [
    '# Written by Sluice (haproxy router, managed mode). Edits are overwritten on the next apply.',
    'global',
    `  stats socket ${files.socket} level admin`,
    ...faults.global,
    // The generation lets the router see, through `show info`, which config the worker runs.
    `  node sluice-gen-${generation}`,
    // One raw line per request to Sluice's receiver (the access-log metrics provider).
    ...(shape.accessLog === undefined ? [] : [`  log ${shape.accessLog} len 1024 format raw local0 info`]),
    '',
    'defaults',
    '  mode http',
    '  option http-keep-alive',
    '  timeout connect 2s',
    '  timeout client 60s',
    `  timeout server ${shape.upstreamTimeoutMs}ms`,
    '  timeout http-keep-alive 15s',
    // A refused connection is retried, the last time on another server.
    '  retries 2',
    '  option redispatch 1',
    '',
    'frontend sluice',
    `  bind ${shape.listen}`,
  ];
  if (shape.accessLog !== undefined) {
    lines.push('  log global', `  log-format "${haproxyLogFormat(logSource(shape.listen))}"`);
    // Answered by haproxy itself and logged: the receiver tells a silent stream from an idle service.
    lines.push(`  http-request return status 204 if { path ${HEARTBEAT_PATH} }`);
  }
  lines.push(...faults.frontend);
  shape.matches.forEach((m, i) => {
    const fetch = m.kind === 'header' ? `req.fhdr(${m.name},1)` : `req.cook(${m.name})`;
    lines.push(
      `  http-request set-var(txn.sluice_route) ${fetch},map_str(${files.mapFile(i)}) if !{ var(txn.sluice_route) -m found }`,
    );
  });
  if (shape.matches.length > 0)
    lines.push('  use_backend %[var(txn.sluice_route)] if { var(txn.sluice_route) -m found }');
  lines.push('  default_backend main', '', 'backend main', ...balance(shape.stickiness), ...serverLines(servers.main));
  for (let i = 0; i < shape.routeBackends; i++) {
    lines.push('', `backend ${routeBackend(i)}`, '  balance roundrobin', ...serverLines(servers.routes[i] ?? []));
  }
  lines.push('', ...faults.backends);
  return `${lines.join('\n')}\n`;
}
