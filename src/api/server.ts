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
import {
  ApplyEntry,
  Engine,
  EventBus,
  followPolicies,
  NotificationHub,
  serverLog,
  closeSpecParser,
  warmSpecParser,
} from '../engine/index.ts';
import { FlagGuard } from '../flags/flag-guard.ts';
import { FlagService } from '../flags/flag-service.ts';
import { StaleDigestSchedule } from '../flags/stale-digest-schedule.ts';
import { FlagTelemetry } from '../flags/flag-telemetry.ts';
import { VARIANT_SERIES_FILE, VariantSeriesFile } from '../flags/variant-series-file.ts';
import { registerFlagRoutes } from './flag-routes.ts';
import { registerOfrepRoutes } from './ofrep-routes.ts';
import { registerSdkRoutes } from './sdk-routes.ts';
import { rememberSecret } from '../drivers/secrets.ts';
import { PostgresStore, redactUrl, StoreUnavailable } from '../store/postgres/store-admin.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/types.ts';
import { Analytics } from '../analytics/analytics.ts';
import { SqliteAnalyticsStore } from '../analytics/sqlite/sqlite-analytics-store.ts';
import { MetricsCollector } from '../analytics/metrics-collector.ts';
import { ReleaseDocuments } from '../analytics/release-documents.ts';
import { openRetrospectives } from '../analytics/retrospective-opener.ts';
import { WeeklyReportSchedule } from '../analytics/weekly-schedule.ts';
import { registerAnalyticsRoutes, registerDocumentRoutes } from './analytics-routes.ts';
import { registerMetricsRoute } from './metrics-route.ts';
import { registerCalendarRoutes } from './calendar-routes.ts';
import { Drills } from '../drills/drills.ts';
import { registerGameDayRoutes } from './gameday-routes.ts';
import { allows, openEnvironments, registerGovernanceRoutes } from './governance-routes.ts';
import { registerPolicyRoutes } from './policy-routes.ts';
import { DataDirLock } from './data-dir-lock.ts';
import { errorHandler, notFoundHandler } from './errors.ts';
import { collectRoutes, registerRoutes } from './routes.ts';
import { registerStatic } from './static.ts';
import { registeredDrivers } from '../drivers/registry.ts';
import { registerTrainRoutes } from './train-routes.ts';
import { TrainRunner } from '../trains/train-runner.ts';

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
  /** This process among the replicas (a restarted one is another instance of the same replica id). */
  const instance = `${process.pid}@${hostname()}-${Date.now()}`;
  const store: Store = shared ?? new SqliteStore(join(dataDir, 'sluice.db'));
  const tokens = shared === null ? new TokenStore(join(dataDir, 'sluice.db')) : await TokenStore.shared(shared.tokens);
  for (const f of ['sluice.db', 'sluice.db-wal', 'sluice.db-shm'])
    if (existsSync(join(dataDir, f))) chmodSync(join(dataDir, f), 0o600);
  // Flags first: a release's setFlag steps change them (docs/flags.md).
  const flags = await FlagService.open(store);
  const bus = new EventBus();
  // Replicas: the policies are caught up from the shared log before any release is started here.
  const stopPolicies = shared === null ? () => undefined : await followPolicies(store, bus, dataDir, log);
  const engine = await Engine.open({
    store,
    dataDir,
    log,
    drivers: registeredDrivers,
    bus,
    notifications: new NotificationHub({ bus, dataDir, log, create: registeredDrivers.notifier }),
    ...(shared !== null && {
      replica: {
        id: o.replicaId ?? 'default',
        instance,
        url: null,
        leases: shared.leases,
      },
    }),
    setFlag: (a, actor) =>
      flags.setPercent(
        a.flag,
        { environment: a.environment, percent: a.percent, rule: a.rule, reason: a.reason },
        actor,
      ),
    ...(o.tickMs !== undefined && { tickMs: o.tickMs }),
    ...(o.drainTimeoutMs !== undefined && { drainTimeoutMs: o.drainTimeoutMs }),
  });
  // A parse worker loads while the server starts, so the first apply does not wait for one.
  warmSpecParser().catch((err: unknown) =>
    log.warn({ err }, 'the spec parse worker did not start; the first apply starts one'),
  );
  const recordServer = serverLog(store, engine.bus);
  const adminToken = ensureAdminToken(tokens, dataDir, Date.now());
  await tokens.persisted();
  // Replicas: a token another replica created or revoked reaches this one as its event.
  if (shared !== null)
    engine.bus.subscribe((e) => {
      if (e.type === 'token.created' || e.type === 'token.revoked') void tokens.reload().catch(() => undefined);
    });
  rememberSecret(adminToken ?? readAdminToken(dataDir));
  if (adminToken !== null) {
    const admin = tokens.list().find((t) => t.role === 'admin')!;
    await recordServer(
      [{ type: 'token.created', tokenId: admin.id, name: admin.name, role: admin.role, expiresAt: admin.expiresAt }],
      'sluice-server',
    );
    process.stderr.write(
      `sluice: created the admin token (shown once; also in ${join(dataDir, 'admin.token')}, mode 600):\n${adminToken}\n`,
    );
  }
  const app = Fastify({
    loggerInstance: log.child({ component: 'api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 4 * 1024 * 1024,
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  const routes = collectRoutes(app);
  registerAuth(app, tokens);
  const environments = await openEnvironments(engine, store, dataDir, log);
  const trains = await TrainRunner.open({
    engine,
    store,
    log: log.child({ component: 'trains' }),
    dataDir,
    roleAllows: allows,
    environments: {
      of: (service) => environments.environmentsOf(service),
      release: (service, environment, version, actor) =>
        environments.releaseForTrain(service, environment, version, actor),
    },
  });
  flags.publishTo(engine.bus);
  // Replicas: a flag changed on another replica (a kill switch too) reaches this one's set.
  const stopFlagFollow = shared === null ? () => undefined : flags.follow(engine.bus);
  const entry = new ApplyEntry({ engine, environments, dataDir, recordServer, roleAllows: allows, trains, flags });
  registerRoutes(app, engine, entry, store, routes);
  registerTokenRoutes(app, tokens, recordServer);
  registerAuditRoutes(app, store);
  registerCalendarRoutes(app, dataDir);
  registerGovernanceRoutes(app, environments);
  registerPolicyRoutes(app, dataDir, recordServer);
  registerTrainRoutes(app, trains);
  const history = new SqliteAnalyticsStore(join(dataDir, 'analytics.db'));
  for (const f of ['analytics.db', 'analytics.db-wal', 'analytics.db-shm'])
    if (existsSync(join(dataDir, f))) chmodSync(join(dataDir, f), 0o600);
  const analytics = new Analytics({ store, analytics: history, bus: engine.bus });
  registerAnalyticsRoutes(app, analytics);
  registerDocumentRoutes(app, new ReleaseDocuments(store, history), analytics);
  const weekly = new WeeklyReportSchedule({
    analytics,
    store,
    dataDir,
    now: Date.now,
    leads: () => engine.leadsServerDuties(),
    log: (message, err) => log.warn({ err }, message),
  });
  weekly.start();
  const staleDigest = new StaleDigestSchedule({
    flags,
    store,
    dataDir,
    now: Date.now,
    leads: () => engine.leadsServerDuties(),
    record: (e, actor) => analytics.recordServerEvent(e, actor),
    log: (message, err) => log.warn({ err }, message),
  });
  staleDigest.start();
  const stopRetrospectives = openRetrospectives(
    engine.bus,
    store,
    async (e, actor) => void (await analytics.recordServerEvent(e, actor)),
    (err) => log.warn({ err }, 'a retrospective could not be opened'),
    { promoteIsOverride: (service) => environments.approvalsRequired(service) > 0 },
  );
  const metrics = await MetricsCollector.open(store, engine.bus);
  const telemetry = new FlagTelemetry(
    shared === null
      ? null
      : {
          instance,
          store: shared.flagOutcomes,
          onError: (err) => log.warn({ err }, 'flag outcomes could not be shared; kept and tried again'),
        },
  );
  telemetry.start();
  registerMetricsRoute(app, engine, metrics, () =>
    flags
      .list()
      .flatMap((r) =>
        Object.entries(telemetry.of(r.flag.name)).flatMap(([environment, variants]) =>
          Object.entries(variants).map(([variant, c]) => ({ environment, flag: r.flag.name, variant, ...c })),
        ),
      ),
  );
  const flagGuard = new FlagGuard(flags, {
    dataDir,
    runs: (service) => engine.runs(service),
    telemetry,
    onError: (service, err) => log.warn({ err, service }, 'flag guard: the proxy could not be reached or judged'),
  });
  // The guard's per-variant series outlive a restart: read before its first round, written beside it.
  const variantSeries = new VariantSeriesFile({
    path: join(dataDir, VARIANT_SERIES_FILE),
    series: flagGuard.variants,
    log: (message, err) => log.warn({ err }, message),
  });
  await variantSeries.load();
  registerFlagRoutes(app, flags, store, telemetry, flagGuard.variants);
  registerOfrepRoutes(app, flags);
  registerSdkRoutes(app, flags, telemetry);
  flagGuard.start();
  variantSeries.start();
  registerGameDayRoutes(
    app,
    await Drills.open({
      engine,
      store,
      dataDir,
      hasEnvironments: (n) => environments.has(n),
      appliedSpec: (n) => environments.appliedSpec(n),
      roleAllows: allows,
    }),
  );
  registerStatic(app);
  const address = await app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 7070 });
  lock.record(address);
  return {
    url: address,
    engine,
    store,
    async close() {
      await flagGuard.close();
      await telemetry.close().catch(() => undefined);
      await variantSeries.close();
      await app.close();
      trains.close();
      metrics.close();
      stopRetrospectives();
      stopPolicies();
      stopFlagFollow();
      await weekly.stop();
      await staleDigest.stop();
      await closeSpecParser();
      await engine.close();
      history.close();
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
