/**
 * How a route table lands on HAProxy servers, as pure functions. Each backend of a proxy has a
 * fixed set of server slots; every endpoint of the table gets a slot (keeping the one it had, so a
 * weight change touches weights only and consistent-hash rings stay put), and the runtime
 * commands that turn the current server states into the wanted ones are computed as a diff.
 */
import net from 'node:net';
import type { RouteTable } from '../types.ts';
import type { ServerState } from './runtime-api.ts';

/** HAProxy's largest server weight. */
export const MAX_WEIGHT = 256;
/** Where an unused slot points (it is in maintenance, so nothing is sent there). */
export const PARKED = { addr: '127.0.0.1', port: 1 };

/** A table backend's percent as a per-server weight: the backend's share split over its endpoints. */
export function serverWeight(percent: number, endpoints: number): number {
  if (percent <= 0 || endpoints === 0) return 0;
  return Math.max(1, Math.round((percent / 100) * (MAX_WEIGHT / endpoints)));
}

/** host and port of an endpoint URL; HAProxy's runtime API sets servers by IP address only. */
export function endpointAddress(url: string): { addr: string; port: number } {
  const u = new URL(url);
  const addr = u.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(addr) === 0) throw new Error(`endpoint ${url}: the haproxy router needs an IP address, not a hostname`);
  if (u.pathname !== '/' || u.search !== '')
    throw new Error(`endpoint ${url}: the haproxy router cannot add a path prefix`);
  return { addr, port: u.port === '' ? 80 : Number(u.port) };
}

/** Slot name → endpoint URL. */
export type Assignment = Record<string, string>;

/** The endpoints wanted in one HAProxy backend, with their server weights. */
export type Wanted = Map<string, number>;

export function wantedMain(table: RouteTable): Wanted {
  const out: Wanted = new Map();
  for (const b of table.backends) {
    for (const url of b.endpoints) out.set(url, serverWeight(b.weight, b.endpoints.length));
  }
  return out;
}

/** A route's backend gets all endpoints of its table backend, evenly. */
export function wantedRoute(table: RouteTable, key: string): Wanted {
  const backend = table.backends.find((b) => b.key === key);
  return new Map((backend?.endpoints ?? []).map((url) => [url, 1]));
}

/** Keeps endpoints on their slots, puts new ones on free slots; null when there are too few slots. */
export function assignSlots(slots: readonly string[], previous: Assignment, wanted: Wanted): Assignment | null {
  const out: Assignment = {};
  const placed = new Set<string>();
  for (const slot of slots) {
    const url = previous[slot];
    if (url !== undefined && wanted.has(url) && !placed.has(url)) {
      out[slot] = url;
      placed.add(url);
    }
  }
  const free = slots.filter((s) => out[s] === undefined);
  for (const url of wanted.keys()) {
    if (placed.has(url)) continue;
    const slot = free.shift();
    if (slot === undefined) return null;
    out[slot] = url;
    placed.add(url);
  }
  return out;
}

/** One server's wanted state: serving an endpoint at a weight, or parked in maintenance. */
export interface SlotTarget {
  server: string;
  endpoint: { addr: string; port: number; weight: number } | null;
}

export function slotTargets(slots: readonly string[], assignment: Assignment, wanted: Wanted): SlotTarget[] {
  return slots.map((server) => {
    const url = assignment[server];
    return { server, endpoint: url === undefined ? null : { ...endpointAddress(url), weight: wanted.get(url) ?? 0 } };
  });
}

/**
 * Runtime commands from the current server states to the targets: servers coming into use first
 * (address, weight, ready), then weight increases, then decreases, then servers leaving (weight 0,
 * maintenance), so no moment in between has every server at weight 0.
 */
export function runtimeCommands(
  backend: string,
  targets: readonly SlotTarget[],
  current: readonly ServerState[],
): string[] {
  const adds: string[] = [];
  const ups: string[] = [];
  const downs: string[] = [];
  const removes: string[] = [];
  for (const t of targets) {
    const cur = current.find((s) => s.name === t.server);
    const id = `${backend}/${t.server}`;
    if (t.endpoint === null) {
      if (cur === undefined || cur.weight !== 0) removes.push(`set server ${id} weight 0`);
      if (cur === undefined || !cur.maint) removes.push(`set server ${id} state maint`);
      continue;
    }
    const moved = cur === undefined || cur.addr !== t.endpoint.addr || cur.port !== t.endpoint.port;
    const reweigh = cur === undefined || cur.weight !== t.endpoint.weight;
    const wake = cur === undefined || cur.maint;
    const list = moved || wake ? adds : cur.weight < t.endpoint.weight ? ups : downs;
    if (moved) list.push(`set server ${id} addr ${t.endpoint.addr} port ${t.endpoint.port}`);
    if (reweigh) list.push(`set server ${id} weight ${t.endpoint.weight}`);
    if (wake) list.push(`set server ${id} state ready`);
  }
  return [...adds, ...ups, ...downs, ...removes];
}

/** Where the servers differ from the targets, in words; empty when they match. */
export function mismatches(backend: string, targets: readonly SlotTarget[], current: readonly ServerState[]): string[] {
  const out: string[] = [];
  for (const t of targets) {
    const cur = current.find((s) => s.name === t.server);
    const id = `${backend}/${t.server}`;
    if (cur === undefined) out.push(`${id} does not exist`);
    else if (t.endpoint === null && !cur.maint && cur.weight !== 0) out.push(`${id} should carry no traffic`);
    else if (
      t.endpoint !== null &&
      (cur.maint || cur.addr !== t.endpoint.addr || cur.port !== t.endpoint.port || cur.weight !== t.endpoint.weight)
    ) {
      out.push(
        `${id} is ${cur.addr}:${cur.port} weight ${cur.weight}${cur.maint ? ' (maint)' : ''}, ` +
          `want ${t.endpoint.addr}:${t.endpoint.port} weight ${t.endpoint.weight}`,
      );
    }
  }
  return out;
}

/** The table's percentages as HAProxy serves them now (per-key sums of server weights). */
export function servedPercents(
  table: RouteTable,
  assignment: Assignment,
  current: readonly ServerState[],
): Map<string, number> {
  const byUrl = new Map<string, number>();
  for (const [slot, url] of Object.entries(assignment)) {
    const s = current.find((c) => c.name === slot);
    byUrl.set(url, s === undefined || s.maint ? 0 : s.weight);
  }
  const sums = table.backends.map((b) => b.endpoints.reduce((n, url) => n + (byUrl.get(url) ?? 0), 0));
  const total = sums.reduce((a, b) => a + b, 0);
  return new Map(
    table.backends.map((b, i) => [b.key, total === 0 ? 0 : Math.round((sums[i]! / total) * 10_000) / 100]),
  );
}
