/**
 * Turning a route table into HAProxy state: the plan (slot assignments, wanted servers and map
 * entries, the managed config text), applying it through the runtime API as a diff, and checking
 * HAProxy against it afterwards.
 */
import type { RouteTable } from '../types.ts';
import {
  type HaproxyFiles,
  type HaproxyShape,
  mainSlot,
  matchOf,
  renderConfig,
  routeBackend,
  routeSlot,
  shapeFor,
  slotNames,
} from './config-file.ts';
import {
  type Assignment,
  type SlotTarget,
  assignSlots,
  mismatches,
  runtimeCommands,
  slotTargets,
  wantedMain,
  wantedRoute,
} from './layout.ts';
import { runtimeCommand, serversState, showMap } from './runtime-api.ts';
import type { HaproxyState } from './state.ts';

export interface Plan {
  state: HaproxyState;
  /** Map entries (value → backend) per match index, for the managed map files. */
  maps: Map<string, string>[];
  /** The managed config with the plan's servers baked in ('' in external mode). */
  config: string;
  /** Managed mode: the config's shape changed, so haproxy is (re)started with the new config. */
  reload: boolean;
  /** Runs after the runtime commands, before verification (managed: persist maps and config). */
  afterRuntime?: () => Promise<void>;
}

export interface PlanInput {
  backend: string;
  /** External mode: the backend's servers. Managed mode: derived from the shape. */
  slots: string[];
  previous: HaproxyState | null;
  /** Managed mode: what the config's shape is built from; null in external mode. */
  base: {
    listen: string;
    upstreamTimeoutMs: number;
    stickiness: HaproxyShape['stickiness'];
    accessLog?: string | undefined;
    lua: boolean;
  } | null;
  running: boolean;
  files: HaproxyFiles | null;
}

function assign(backend: string, slots: string[], previous: Assignment, wanted: Map<string, number>): Assignment {
  const out = assignSlots(slots, previous, wanted);
  if (out === null)
    throw new Error(`HAProxy backend "${backend}" has ${slots.length} server slots; the table needs ${wanted.size}`);
  return out;
}

export function planFor(table: RouteTable, input: PlanInput): Plan {
  const prev = input.previous;
  const shape =
    input.base === null ? null : shapeFor(table, input.base, input.running && prev?.shape ? prev.shape : null);
  const reload = shape !== null && (!input.running || shape !== prev?.shape);
  const generation = (prev?.generation ?? 0) + (reload ? 1 : 0);
  const slots = shape === null ? input.slots : slotNames(shape.mainSlots, mainSlot);
  const wanted = wantedMain(table);
  const main = assign(input.backend, slots, prev?.main ?? {}, wanted);
  const targets: Record<string, SlotTarget[]> = { [input.backend]: slotTargets(slots, main, wanted) };
  const routes: Assignment[] = [];
  const maps: Map<string, string>[] = (shape?.matches ?? []).map(() => new Map());
  const tableRoutes = table.routes ?? [];
  for (let i = 0; i < (shape?.routeBackends ?? 0); i++) {
    const route = tableRoutes[i];
    const rslots = slotNames(shape!.routeSlots, routeSlot);
    const rwanted = route === undefined ? new Map<string, number>() : wantedRoute(table, route.key);
    routes.push(assign(routeBackend(i), rslots, prev?.routes[i] ?? {}, rwanted));
    targets[routeBackend(i)] = slotTargets(rslots, routes[i]!, rwanted);
    if (route === undefined) continue;
    const m = matchOf(route);
    const j = shape!.matches.findIndex((x) => x.kind === m.kind && x.name === m.name);
    // The first route for a name and value wins, as in the built-in proxy.
    if (!maps[j]!.has(route.match.value)) maps[j]!.set(route.match.value, routeBackend(i));
  }
  const files = input.files;
  const config =
    shape === null || files === null
      ? ''
      : renderConfig(shape, files, generation, {
          main: targets.main!,
          routes: routes.map((_, i) => targets[routeBackend(i)]!),
        });
  const mapState = Object.fromEntries(maps.map((m, j) => [files!.mapFile(j), Object.fromEntries(m)]));
  return {
    state: { backend: input.backend, shape, generation, main, routes, targets, maps: mapState, table },
    maps,
    config,
    reload,
  };
}

/** Lines of HAProxy's answers that report a failure (success is silent or says what changed). */
const problems = (answer: string) =>
  answer.split('\n').filter((l) => l.trim() !== '' && !/changed from|no need to change/.test(l));

/**
 * Runs commands as one `;`-separated batch over one connection: HAProxy runs them back to back,
 * so a weight change lands in one go and costs one round trip.
 */
async function runBatch(socket: string, commands: string[], notes: string[]): Promise<void> {
  if (commands.length === 0) return;
  const answer = await runtimeCommand(socket, commands.join(';'));
  for (const line of problems(answer)) notes.push(line.trim());
}

export async function applyPlan(plan: Plan, socket: string): Promise<void> {
  const notes: string[] = [];
  if (!plan.reload) {
    const single = Object.keys(plan.state.targets).length === 1 ? plan.state.backend : undefined;
    const current = await serversState(socket, single);
    const commands = Object.entries(plan.state.targets).flatMap(([backend, targets]) =>
      runtimeCommands(backend, targets, current.get(backend) ?? []),
    );
    await runBatch(socket, commands, notes);
    for (const [file, want] of Object.entries(plan.state.maps)) {
      const have = await showMap(socket, file);
      const commands: string[] = [];
      for (const key of have.keys()) if (!(key in want)) commands.push(`del map ${file} ${key}`);
      for (const [key, value] of Object.entries(want)) {
        const now = have.get(key);
        if (now === undefined) commands.push(`add map ${file} ${key} ${value}`);
        else if (now !== value) commands.push(`set map ${file} ${key} ${value}`);
      }
      await runBatch(socket, commands, notes);
    }
    await plan.afterRuntime?.();
  }
  const problems = await verify(plan.state, socket);
  if (problems.length > 0) {
    throw new Error(
      `HAProxy does not serve the table: ${problems.join('; ')}${notes.length > 0 ? `; runtime API said: ${notes.join('; ')}` : ''}`,
    );
  }
}

/** Differences between what HAProxy serves and the state's wanted servers and maps; empty when none. */
export async function verify(state: HaproxyState, socket: string): Promise<string[]> {
  const single = Object.keys(state.targets).length === 1 ? state.backend : undefined;
  const current = await serversState(socket, single);
  const out: string[] = [];
  for (const [backend, targets] of Object.entries(state.targets))
    out.push(...mismatches(backend, targets, current.get(backend) ?? []));
  for (const [file, want] of Object.entries(state.maps)) {
    const have = await showMap(socket, file);
    const same = have.size === Object.keys(want).length && Object.entries(want).every(([k, v]) => have.get(k) === v);
    if (!same) out.push(`map ${file} holds ${JSON.stringify(Object.fromEntries(have))}, want ${JSON.stringify(want)}`);
  }
  return out;
}
