import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { pino, type Logger } from 'pino';
import { registerAuditRoutes } from '../audit/audit-routes.ts';
import { ensureAdminToken } from '../auth/admin-token.ts';
import { registerAuth } from '../auth/auth-hook.ts';
import { registerTokenRoutes } from '../auth/token-routes.ts';
import { TokenStore } from '../auth/token-store.ts';
import { ApplyEntry } from '../engine/apply-entry.ts';
import { Engine } from '../engine/engine.ts';
import { rememberSecret } from '../drivers/secrets.ts';
import { PostgresStore, redactUrl, StoreUnavailable } from '../store/postgres/store-admin.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/types.ts';
import { registerCalendarRoutes } from './calendar-routes.ts';
import { allows, openEnvironments, registerGovernanceRoutes } from './governance-routes.ts';
import { registerPolicyRoutes } from './policy-routes.ts';
import { serverLog } from '../engine/server-log.ts';
import { closeSpecParser, warmSpecParser } from '../engine/spec-text.ts';
import { DataDirLock } from './data-dir-lock.ts';
import { errorHandler, notFoundHandler } from './errors.ts';
import { collectRoutes, registerRoutes } from './routes.ts';
import { registerStatic } from './static.ts';

export interface ServerOptions {
  dataDir: string;
  host?: string;
  port?: number;
  log?: Logger;
  tickMs?: number;
  drainTimeoutMs?: number;
  /** A PostgreSQL URL: the store several replicas share (default: the data dir's SQLite file). */
  store?: string;
  /** This replica's id on a shared store; unique among live replicas. */
  replicaId?: string;
}

export interface RunningServer {
  url: string;
  engine: Engine;
  store: Store;
  /** Stop serving the API and detach from instances and data planes (they keep running). */
  close(): Promise<void>;
}

/** The composition root of `sluice server`: store, engine, API, in one process. */
export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const dataDir = resolve(o.dataDir);
  // Only the server's user reads its data dir: the log, tokens' hashes, the admin token.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  const lock = DataDirLock.acquire(dataDir, o.store === undefined ? undefined : o.replicaId);
  const log = o.log ?? pino({ level: process.env.SLUICE_LOG_LEVEL ?? 'info' });
  const shared = o.store === undefined ? null : await openShared(o.store, log);
  const store: Store = shared ?? new SqliteStore(join(dataDir, 'sluice.db'));
  const tokens = shared === null ? new TokenStore(join(dataDir, 'sluice.db')) : await TokenStore.shared(shared.tokens);
  for (const f of ['sluice.db', 'sluice.db-wal', 'sluice.db-shm']) if (existsSync(join(dataDir, f))) chmodSync(join(dataDir, f), 0o600);
  const engine = await Engine.open({
    store, dataDir, log,
    ...(shared !== null && { replica: { id: o.replicaId ?? 'default', instance: `${process.pid}@${hostname()}-${Date.now()}`, url: null, leases: shared.leases } }),
    ...(o.tickMs !== undefined && { tickMs: o.tickMs }),
    ...(o.drainTimeoutMs !== undefined && { drainTimeoutMs: o.drainTimeoutMs }),
  });
  // A parse worker loads while the server starts, so the first apply does not wait for one.
  warmSpecParser().catch((err: unknown) => log.warn({ err }, 'the spec parse worker did not start; the first apply starts one'));
  const recordServer = serverLog(store, engine.bus);
  const adminToken = ensureAdminToken(tokens, dataDir, Date.now());
  await tokens.persisted();
  // Replicas: a token another replica created or revoked reaches this one as its event.
  if (shared !== null) engine.bus.subscribe((e) => { if (e.type === 'token.created' || e.type === 'token.revoked') void tokens.reload().catch(() => undefined); });
  rememberSecret(adminToken ?? readAdminToken(dataDir));
  if (adminToken !== null) {
    const admin = tokens.list().find((t) => t.role === 'admin')!;
    await recordServer([{ type: 'token.created', tokenId: admin.id, name: admin.name, role: admin.role, expiresAt: admin.expiresAt }], 'sluice-server');
    process.stderr.write(`sluice: created the admin token (shown once; also in ${join(dataDir, 'admin.token')}, mode 600):\n${adminToken}\n`);
  }
  const app = Fastify({ loggerInstance: log.child({ component: 'api' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: 4 * 1024 * 1024 });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  const routes = collectRoutes(app);
  registerAuth(app, tokens);
  const environments = await openEnvironments(engine, store, dataDir, log);
  const entry = new ApplyEntry({ engine, environments, dataDir, recordServer, roleAllows: allows });
  registerRoutes(app, engine, entry, store, routes);
  registerTokenRoutes(app, tokens, recordServer);
  registerAuditRoutes(app, store);
  registerCalendarRoutes(app, dataDir);
  registerGovernanceRoutes(app, environments);
  registerPolicyRoutes(app, dataDir, recordServer);
  registerStatic(app);
  const address = await app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 7070 });
  lock.record(address);
  return {
    url: address,
    engine,
    store,
    async close() {
      await app.close();
      await closeSpecParser();
      await engine.close();
      await store.close();
      tokens.close();
      lock.release();
    },
  };
}

/**
 * The shared PostgreSQL store. An unreachable or read-only database is said, and tried again
 * every 2 s until it answers; what waiting cannot fix (a refused login, a newer schema) stops the start.
 */
async function openShared(url: string, log: Logger): Promise<PostgresStore> {
  for (;;) {
    try {
      return await PostgresStore.open(url);
    } catch (err) {
      if (!(err instanceof StoreUnavailable) || !err.retry) throw err;
      log.error({ store: redactUrl(url) }, `${err.message}; trying again in 2 s`);
      process.stderr.write(`sluice: ${err.message}; trying again in 2 s\n`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

/** The admin token kept in the data dir (undefined: removed by its owner). */
function readAdminToken(dataDir: string): string | undefined {
  try {
    return readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  } catch {
    return undefined;
  }
}
