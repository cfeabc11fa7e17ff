/**
 * What the haproxy router remembers between calls and across controller restarts, in
 * `<serviceDir>/router/haproxy/state.json`: the applied table, which endpoint sits on which server
 * slot, the servers' and maps' wanted states (to verify HAProxy against) and, in managed mode, the
 * config's shape and generation. Also the checks a table must pass before anything is changed.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RouteTable } from '../types.ts';
import { type HaproxyShape, SAFE_NAME, SAFE_VALUE } from './config-file.ts';
import { type Assignment, type SlotTarget, endpointAddress } from './layout.ts';

export interface HaproxyState {
  /** The backend weighted by the table: `main` in managed mode, the configured one otherwise. */
  backend: string;
  shape: HaproxyShape | null;
  generation: number;
  main: Assignment;
  /** Slot assignment of each route backend (route0, route1 …). */
  routes: Assignment[];
  /** Wanted server states by HAProxy backend name. */
  targets: Record<string, SlotTarget[]>;
  /** Wanted map entries (route value → HAProxy backend) by map file. */
  maps: Record<string, Record<string, string>>;
  table: RouteTable | null;
}

const file = (dir: string) => join(dir, 'state.json');

export async function readState(dir: string): Promise<HaproxyState | null> {
  try {
    return JSON.parse(await readFile(file(dir), 'utf8')) as HaproxyState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read ${file(dir)}: ${(err as Error).message}`);
  }
}

export async function writeState(dir: string, state: HaproxyState): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = `${file(dir)}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, file(dir));
}

export async function removeState(dir: string): Promise<void> {
  await rm(file(dir), { force: true });
}

/** Throws, naming the field, when HAProxy could not serve the table as written. */
export function checkTable(table: RouteTable, managed: boolean): void {
  const sum = table.backends.reduce((n, b) => n + b.weight, 0);
  if (table.backends.length === 0 || Math.abs(sum - 100) > 0.001) {
    throw new Error(`backend weights sum to ${sum}; they must sum to 100`);
  }
  const seen = new Set<string>();
  table.backends.forEach((b, i) => {
    if (b.weight > 0 && b.endpoints.length === 0)
      throw new Error(`backends[${i}] ("${b.key}") has weight ${b.weight} but no endpoints`);
    for (const url of b.endpoints) {
      if (seen.has(url))
        throw new Error(`backends[${i}] endpoint ${url} appears twice; each endpoint belongs to one backend`);
      seen.add(url);
      endpointAddress(url);
    }
  });
  const routes = table.routes ?? [];
  if (routes.length > 0 && !managed) {
    throw new Error('header/cookie routes need managed mode (router.listen); an external backend is weighed only');
  }
  routes.forEach((r, i) => {
    const backend = table.backends.find((b) => b.key === r.key);
    if (backend === undefined || backend.endpoints.length === 0)
      throw new Error(`routes[${i}].key "${r.key}" names no backend with endpoints`);
    const name = 'header' in r.match ? r.match.header : r.match.cookie;
    if (!SAFE_NAME.test(name)) throw new Error(`routes[${i}].match: "${name}" must use letters, digits, _ . - only`);
    if (!SAFE_VALUE.test(r.match.value)) {
      throw new Error(
        `routes[${i}].match.value "${r.match.value}" must use letters, digits and _ . ~ : @ + = / ! * - only`,
      );
    }
  });
}
