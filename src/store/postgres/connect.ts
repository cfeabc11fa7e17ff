import pg from 'pg';

/** The channel commits notify on (a wake-up: the payload is the service, the log stays the truth). */
export const EVENTS_CHANNEL = 'sluice_events';

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

/** Why the database cannot be used now, in words an operator can act on; `retry` says whether waiting can help. */
export class StoreUnavailable extends Error {
  readonly retry: boolean;

  constructor(message: string, retry: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.retry = retry;
  }
}

/** How long the database lets a transaction sit idle before ending it (and its locks). */
export const IDLE_IN_TRANSACTION_MS = 2000;

/**
 * How long a query may go without an answer before its connection is given up. A database cut off
 * by dropped packets gives no error, only silence: without this bound a replica's queries (its
 * lease renewals, its commits) would hang until TCP gave up, minutes later, and so would it.
 */
export const QUERY_TIMEOUT_MS = 5000;

/** node-postgres's error for a query past QUERY_TIMEOUT_MS. */
export const isQueryTimeout = (err: unknown): boolean => (err as Error | null)?.message === 'Query read timeout';

/** The words for a connection or query failure against `url`. */
export function describePgError(url: string, err: unknown): StoreUnavailable {
  const e = err as Error & { code?: string };
  const where = redactUrl(url);
  switch (e.code) {
    case 'ECONNREFUSED':
      return new StoreUnavailable(
        `cannot reach PostgreSQL at ${where}: connection refused (is it running and listening there?)`,
        true,
        { cause: err },
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StoreUnavailable(`cannot reach PostgreSQL at ${where}: the host name does not resolve`, true, {
        cause: err,
      });
    case 'ETIMEDOUT':
      return new StoreUnavailable(`cannot reach PostgreSQL at ${where}: the connection timed out`, true, {
        cause: err,
      });
    case '28P01':
    case '28000':
      return new StoreUnavailable(`PostgreSQL at ${where} refused the login: ${e.message}`, false, { cause: err });
    case '3D000':
      return new StoreUnavailable(
        `PostgreSQL at ${where}: ${e.message} (create it, e.g. createdb, then start again)`,
        false,
        { cause: err },
      );
    case '25006':
      return new StoreUnavailable(
        `PostgreSQL at ${where} is read-only (a standby, or default_transaction_read_only): sluice needs a writable primary`,
        true,
        { cause: err },
      );
    case '57P03':
      return new StoreUnavailable(`PostgreSQL at ${where} is starting up or shutting down`, true, { cause: err });
    default:
      return new StoreUnavailable(`PostgreSQL at ${where}: ${e.message}`, true, { cause: err });
  }
}

/** A pool on `url`, checked once: reachable, logged in, and writable. Throws StoreUnavailable. */
export async function connectPool(url: string, max = 8): Promise<pg.Pool> {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new StoreUnavailable(
      `--store "${redactUrl(url)}" is not a PostgreSQL URL; write postgres://USER@HOST:PORT/DATABASE`,
      false,
    );
  }
  // A replica paused (SIGSTOP, a VM freeze) inside a transaction would hold its locks (the lease
  // row, the chain lock) and block every other replica: the database ends such a transaction
  // after 2 s idle, inside the 3 s lease, so the next owner can take over.
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
    // A query with no answer errs (and pool.query drops its connection) instead of hanging.
    query_timeout: QUERY_TIMEOUT_MS,
  });
  // A broken idle connection is dropped by the pool; without a listener it would end the process.
  pool.on('error', () => undefined);
  try {
    const r = await pool.query('SHOW transaction_read_only');
    if (r.rows[0]?.transaction_read_only === 'on') throw Object.assign(new Error('read-only'), { code: '25006' });
    return pool;
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw describePgError(url, err);
  }
}
