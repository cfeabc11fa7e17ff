/**
 * The built-in proxy process: `node src/proxy/main.ts --dir <stateDir> --listen <host:port>
 * --admin-secret-file <path> [--admin-listen <host:port>] [--upstream-timeout-ms <ms>] [--workers <n>]`.
 * With n > 1 this process is the primary: it serves the admin API and n node:cluster workers serve
 * the traffic (worker-plane.ts, worker.ts). Every admin call must carry
 * `Authorization: Bearer <the file's secret>`; the file must be readable by its owner only. The admin
 * API listens on 127.0.0.1 (an ephemeral port) unless --admin-listen says where, so replicas on other
 * hosts can reach it. Every table decided is appended to <stateDir>/routes.log.
 * It runs apart from the controller so that traffic keeps flowing at the last weights when the
 * controller dies; a restarted controller finds it through <stateDir>/proxy.json, and a
 * restarted proxy serves <stateDir>/routes.json at once.
 */
import http from 'node:http';
import { availableParallelism } from 'node:os';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createAdminHandler } from './admin.ts';
import { DataPlane } from './data-plane.ts';
import { createFlagAdmin } from './flag-admin.ts';
import { FlagPlane, type FlagPlaneConfig, validateFlagConfig } from './flag-plane.ts';
import type { ProxyInfo } from './proxy-info.ts';
import { readJsonFile, writeJsonAtomic } from './state-files.ts';
import { validateTable } from './table.ts';
import type { RouteTable } from '../core/route-table.ts';
import { RouteLog } from './route-log.ts';
import { createTrafficServer, DRAIN_MS, drain, listen } from './traffic.ts';
import { WorkerPlane } from './worker-plane.ts';

const USAGE =
  'usage: node src/proxy/main.ts --dir <stateDir> --listen <host:port> --admin-secret-file <path> [--admin-listen <host:port>] [--upstream-timeout-ms <ms>] [--workers <n>]';
/** Most workers one proxy may run. */
const MAX_WORKERS = 64;

function exitWith(message: string, code: number): never {
  process.stderr.write(`sluice proxy: ${message}\n`);
  process.exit(code);
}

function parseListen(text: string): { host: string; port: number } | null {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) return null;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

interface Args {
  dir: string;
  listen: string;
  /** Where the admin API listens (default 127.0.0.1, an ephemeral port). */
  adminListen: string;
  secretFile: string;
  upstreamTimeoutMs: number;
  /** Worker processes serving traffic; 1 serves it in this process. */
  workers: number;
}

function readArgs(): Args {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        dir: { type: 'string' },
        listen: { type: 'string' },
        'admin-secret-file': { type: 'string' },
        'admin-listen': { type: 'string', default: '127.0.0.1:0' },
        'upstream-timeout-ms': { type: 'string', default: '60000' },
        workers: { type: 'string', default: '1' },
      },
    }));
  } catch (err) {
    return exitWith(`${(err as Error).message}\n${USAGE}`, 2);
  }
  if (values.dir === undefined || values.listen === undefined) exitWith(`--dir and --listen are required\n${USAGE}`, 2);
  const secretFile = values['admin-secret-file'];
  if (secretFile === undefined)
    exitWith(`--admin-secret-file is required: the admin API takes no call without its secret\n${USAGE}`, 2);
  const upstreamTimeoutMs = Number(values['upstream-timeout-ms']);
  if (!Number.isInteger(upstreamTimeoutMs) || upstreamTimeoutMs <= 0) {
    exitWith(`--upstream-timeout-ms must be a positive integer, got "${values['upstream-timeout-ms']}"`, 2);
  }
  const workers = values.workers === 'auto' ? availableParallelism() : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
    exitWith(`--workers must be a whole number from 1 to ${MAX_WORKERS}, or auto, got "${values.workers}"`, 2);
  }
  return {
    dir: values.dir,
    listen: values.listen,
    adminListen: values['admin-listen'],
    secretFile,
    upstreamTimeoutMs,
    workers,
  };
}

/** The admin secret, from a file only its owner can read (like ssh's keys); exits 2 otherwise. */
async function readSecret(path: string): Promise<string> {
  let text: string;
  let mode: number;
  try {
    mode = (await stat(path)).mode & 0o777;
    text = await readFile(path, 'utf8');
  } catch (err) {
    return exitWith(`--admin-secret-file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 2);
  }
  if ((mode & 0o077) !== 0)
    exitWith(
      `--admin-secret-file ${path} has mode ${mode.toString(8)}; make it readable by its owner only (chmod 600)`,
      2,
    );
  const secret = text.trim();
  if (secret.length < 16)
    exitWith(`--admin-secret-file ${path} holds ${secret.length} characters; write a random secret of at least 16`, 2);
  return secret;
}

async function loadSavedTable(path: string): Promise<RouteTable | null> {
  try {
    const saved = await readJsonFile(path);
    if (saved === undefined) return null;
    const check = validateTable(saved);
    if (check.ok) return check.table;
    process.stderr.write(`sluice proxy: ignoring ${path}: ${check.message}\n`);
  } catch (err) {
    process.stderr.write(`sluice proxy: ignoring ${path}: ${(err as Error).message}\n`);
  }
  return null;
}

/** The table and flags saved by the last run, served from the start. */
interface SavedState {
  table: RouteTable | null;
  flags: FlagPlaneConfig | null;
}

/** What serves traffic: this process, or N workers behind this one. */
interface Serving {
  plane: DataPlane | WorkerPlane;
  flags: FlagPlane;
  /** Binds the listen address; resolves with the port. */
  listen(): Promise<number>;
  /** Drains traffic; resolves once in-flight requests are done (bounded). */
  stop(): Promise<void>;
}

function singleProcess(args: Args, host: string, port: number, state: SavedState): Serving {
  const plane = new DataPlane(args.upstreamTimeoutMs);
  if (state.table !== null) plane.apply(state.table);
  const flags = new FlagPlane();
  if (state.flags !== null) flags.apply(state.flags);
  const traffic = createTrafficServer(plane, flags);
  return {
    plane,
    flags,
    listen: () => listen(traffic, port, host),
    stop: () =>
      new Promise((resolve) =>
        drain(traffic, () => {
          plane.close();
          resolve();
        }),
      ),
  };
}

function workerProcesses(args: Args, host: string, port: number, state: SavedState): Serving {
  const plane = new WorkerPlane({
    workers: args.workers,
    host,
    port,
    upstreamTimeoutMs: args.upstreamTimeoutMs,
    onFatal: (message) => {
      void plane.stop().finally(() => exitWith(message, 1));
    },
  });
  return {
    plane,
    flags: plane.flags,
    listen: () => plane.start(state.table, state.flags),
    stop: () => plane.stop(),
  };
}

async function main(): Promise<void> {
  const args = readArgs();
  const address = parseListen(args.listen);
  if (address === null) exitWith(`--listen "${args.listen}" is not host:port, e.g. 127.0.0.1:8080`, 2);
  const adminAddress = parseListen(args.adminListen);
  if (adminAddress === null)
    exitWith(`--admin-listen "${args.adminListen}" is not host:port, e.g. 127.0.0.1:0 (the default)`, 2);
  const secret = await readSecret(args.secretFile);
  await mkdir(args.dir, { recursive: true });
  const routesPath = join(args.dir, 'routes.json');
  const infoPath = join(args.dir, 'proxy.json');
  const routeLog = new RouteLog(join(args.dir, 'routes.log'));
  // Flags at the edge (flag-plane.ts): the last config given, served again after a restart.
  const flagsPath = join(args.dir, 'flags.json');
  const savedFlags = validateFlagConfig(await readJsonFile(flagsPath).catch(() => undefined));
  const state: SavedState = {
    table: await loadSavedTable(routesPath),
    flags: savedFlags.ok ? savedFlags.config : null,
  };
  const serving = (args.workers > 1 ? workerProcesses : singleProcess)(args, address.host, address.port, state);
  const { plane, flags } = serving;
  const startedAt = Date.now();
  /** The traffic address bound, told by GET /healthz (a router attached to this proxy checks its listen). */
  let served: string | null = null;
  const admin = http.createServer(
    createAdminHandler({
      plane,
      persist: (t) => writeJsonAtomic(routesPath, t),
      startedAt,
      now: Date.now,
      secret,
      flags: createFlagAdmin(
        flags,
        (c) => writeJsonAtomic(flagsPath, c),
        startedAt,
        plane instanceof WorkerPlane ? () => plane.flagMetrics() : undefined,
      ),
      record: (write) => routeLog.append(write),
      listen: () => served,
    }),
  );

  let port: number;
  try {
    port = await serving.listen();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const code = e.code ?? e.message;
    const hint = code === 'EADDRINUSE' ? ' (the address is in use by another process)' : '';
    if (plane instanceof WorkerPlane) await plane.stop();
    exitWith(`cannot listen on ${args.listen}: ${code}${hint}`, 1);
  }
  let adminPort: number;
  try {
    adminPort = await listen(admin, adminAddress.port, adminAddress.host);
  } catch (err) {
    exitWith(`cannot listen on --admin-listen ${args.adminListen}: ${(err as NodeJS.ErrnoException).code ?? err}`, 1);
  }
  const bracket = (h: string) => (h.includes(':') ? `[${h}]` : h);
  const host = bracket(address.host);
  const info: ProxyInfo = {
    pid: process.pid,
    adminUrl: `http://${bracket(adminAddress.host)}:${adminPort}`,
    listen: `${host}:${port}`,
    startedAt,
    workers: args.workers,
  };
  served = info.listen;
  await writeJsonAtomic(infoPath, info);
  const workers = args.workers > 1 ? ` with ${args.workers} workers` : '';
  process.stdout.write(`sluice proxy ${process.pid}: serving ${info.listen}${workers}, admin ${info.adminUrl}\n`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`sluice proxy ${process.pid}: ${signal}, draining\n`);
    const finish = async (): Promise<void> => {
      // Remove proxy.json only if it is still ours (a newer proxy may have replaced it).
      const current = (await readJsonFile(infoPath).catch(() => undefined)) as ProxyInfo | undefined;
      if (current?.pid === process.pid) await rm(infoPath, { force: true });
      process.exit(0);
    };
    admin.close();
    admin.closeAllConnections();
    void serving.stop().then(finish);
    setTimeout(() => void finish(), DRAIN_MS + 2000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: Error) => exitWith(`failed to start: ${err.stack ?? err.message}`, 1));
