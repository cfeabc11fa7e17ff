/**
 * The PostgreSQL store's schema, as numbered migrations applied in order at start (migrate.ts).
 * A migration is never edited once released: a change is a new one at the end.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'the event log, its hash chain, projections, revisions, services and API tokens',
    sql: [
      `CREATE TABLE events (
        seq BIGINT PRIMARY KEY, service TEXT NOT NULL, type TEXT NOT NULL, at BIGINT NOT NULL,
        actor TEXT NOT NULL, body TEXT NOT NULL, prev_hash TEXT, hash TEXT)`,
      `CREATE INDEX events_by_service ON events (service, seq)`,
      `CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, hash TEXT NOT NULL)`,
      `CREATE TABLE service_states (service TEXT PRIMARY KEY, seq BIGINT NOT NULL, state TEXT NOT NULL)`,
      `CREATE TABLE releases (
        id TEXT PRIMARY KEY, service TEXT NOT NULL, number INTEGER NOT NULL, status TEXT NOT NULL,
        started_at BIGINT NOT NULL, ended_at BIGINT, release TEXT NOT NULL)`,
      `CREATE INDEX releases_by_service ON releases (service, number)`,
      `CREATE TABLE revisions (
        service TEXT NOT NULL, key TEXT NOT NULL, number INTEGER NOT NULL, version TEXT NOT NULL,
        template_hash TEXT NOT NULL, base_dir TEXT NOT NULL, file TEXT, created_at BIGINT NOT NULL,
        created_by TEXT NOT NULL, spec TEXT NOT NULL, PRIMARY KEY (service, key))`,
      `CREATE TABLE services (
        name TEXT PRIMARY KEY, revision_key TEXT NOT NULL, base_dir TEXT NOT NULL, file TEXT,
        updated_at BIGINT NOT NULL, spec TEXT NOT NULL)`,
      `CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL, created_at BIGINT NOT NULL,
        created_by TEXT NOT NULL, expires_at BIGINT, revoked_at BIGINT)`,
    ],
  },
  {
    version: 2,
    name: 'leases: one owner per service, with an epoch that fences its writes; replicas by id',
    sql: [
      `CREATE TABLE leases (service TEXT PRIMARY KEY, holder TEXT NOT NULL, epoch BIGINT NOT NULL, expires_at BIGINT NOT NULL)`,
      `CREATE TABLE replicas (id TEXT PRIMARY KEY, instance TEXT NOT NULL, url TEXT, seen_at BIGINT NOT NULL)`,
    ],
  },
  {
    version: 3,
    name: 'the chain head read under the chain lock in one call, for shorter commits',
    sql: [
      // VOLATILE plpgsql: the SELECT after the lock takes a new snapshot, so it sees the commit
      // that held the lock before this one.
      `CREATE FUNCTION sluice_chain_tip(lock_key BIGINT) RETURNS TABLE (seq BIGINT, hash TEXT) LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock(lock_key);
        RETURN QUERY SELECT h.seq, h.hash FROM audit_head h WHERE h.id = 1;
        IF NOT FOUND THEN
          RETURN QUERY SELECT e.seq, e.hash FROM events e ORDER BY e.seq DESC LIMIT 1;
        END IF;
      END $$`,
    ],
  },
  {
    version: 4,
    name: "an sdk token's environment: the one environment's flags it may read",
    sql: ['ALTER TABLE api_tokens ADD COLUMN environment TEXT'],
  },
  {
    version: 5,
    name: 'the request outcomes applications report per flag variant, each server process its own cumulative row',
    sql: [
      `CREATE TABLE flag_outcomes (
        environment TEXT NOT NULL, flag TEXT NOT NULL, variant TEXT NOT NULL, instance TEXT NOT NULL,
        requests BIGINT NOT NULL, errors BIGINT NOT NULL, latency TEXT NOT NULL, updated_at BIGINT NOT NULL,
        PRIMARY KEY (flag, environment, variant, instance))`,
    ],
  },
];

/** The newest schema this binary knows. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;
