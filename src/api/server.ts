import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
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
import { FlagGuard } from '../flags/flag-guard.ts';
import { FlagService } from '../flags/flag-service.ts';
import { FlagTelemetry } from '../flags/flag-telemetry.ts';
import { registerFlagRoutes } from './flag-routes.ts';
import { registerOfrepRoutes } from './ofrep-routes.ts';
import { registerSdkRoutes } from './sdk-routes.ts';
import { rememberSecret } from '../drivers/secrets.ts';
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
  const lock = DataDirLock.acquire(dataDir);
  const log = o.log ?? pino({ level: process.env.SLUICE_LOG_LEVEL ?? 'info' });
  const store = new SqliteStore(join(dataDir, 'sluice.db'));
  const tokens = new TokenStore(join(dataDir, 'sluice.db'));
  for (const f of ['sluice.db', 'sluice.db-wal', 'sluice.db-shm']) if (existsSync(join(dataDir, f))) chmodSync(join(dataDir, f), 0o600);
  // Flags first: a release's setFlag steps change them (docs/flags.md).
  const flags = await FlagService.open(store);
  const engine = await Engine.open({
    store, dataDir, log,
    setFlag: (a, actor) => flags.setPercent(a.flag, { environment: a.environment, percent: a.percent, rule: a.rule, reason: a.reason }, actor),
    ...(o.tickMs !== undefined && { tickMs: o.tickMs }),
    ...(o.drainTimeoutMs !== undefined && { drainTimeoutMs: o.drainTimeoutMs }),
  });
  // A parse worker loads while the server starts, so the first apply does not wait for one.
  warmSpecParser().catch((err: unknown) => log.warn({ err }, 'the spec parse worker did not start; the first apply starts one'));
  const recordServer = serverLog(store, engine.bus);
  const adminToken = ensureAdminToken(tokens, dataDir, Date.now());
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
  flags.publishTo(engine.bus);
  const entry = new ApplyEntry({ engine, environments, dataDir, recordServer, roleAllows: allows, flags });
  registerRoutes(app, engine, entry, store, routes);
  registerTokenRoutes(app, tokens, recordServer);
  registerAuditRoutes(app, store);
  registerCalendarRoutes(app, dataDir);
  registerGovernanceRoutes(app, environments);
  registerPolicyRoutes(app, dataDir, recordServer);
  const telemetry = new FlagTelemetry();
  registerFlagRoutes(app, flags, store, telemetry);
  registerOfrepRoutes(app, flags);
  registerSdkRoutes(app, flags, telemetry);
  const flagGuard = new FlagGuard(flags, { dataDir, onError: (service, err) => log.warn({ err, service }, 'flag guard: the proxy could not be reached or judged') });
  flagGuard.start();
  registerStatic(app);
  const address = await app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 7070 });
  lock.record(address);
  return {
    url: address,
    engine,
    store,
    async close() {
      flagGuard.close();
      await app.close();
      await closeSpecParser();
      await engine.close();
      await store.close();
      tokens.close();
      lock.release();
    },
  };
}

/** The admin token kept in the data dir (undefined: removed by its owner). */
function readAdminToken(dataDir: string): string | undefined {
  try {
    return readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  } catch {
    return undefined;
  }
}
