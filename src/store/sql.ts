/**
 * The store's tables, in SQL that SQLite and PostgreSQL both accept: TEXT for JSON, BIGINT for
 * epoch milliseconds, INSERT … ON CONFLICT for upserts.
 */
import type { StoredRevision } from './types.ts';
export const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    service TEXT NOT NULL,
    type TEXT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    body TEXT NOT NULL,
    prev_hash TEXT,
    hash TEXT
  )`,
  `CREATE INDEX IF NOT EXISTS events_by_service ON events (service, seq)`,
  /** The last event's seq and hash: a deleted tail of the log is detected, and seqs are never reused. */
  `CREATE TABLE IF NOT EXISTS audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS service_states (
    service TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    state TEXT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS releases (
    id TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    number INTEGER NOT NULL,
    status TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    release TEXT NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS releases_by_service ON releases (service, number)`,
  `CREATE TABLE IF NOT EXISTS revisions (
    service TEXT NOT NULL,
    key TEXT NOT NULL,
    number INTEGER NOT NULL,
    version TEXT NOT NULL,
    template_hash TEXT NOT NULL,
    base_dir TEXT NOT NULL,
    file TEXT,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    spec TEXT NOT NULL,
    PRIMARY KEY (service, key)
  )`,
  `CREATE TABLE IF NOT EXISTS services (
    name TEXT PRIMARY KEY,
    revision_key TEXT NOT NULL,
    base_dir TEXT NOT NULL,
    file TEXT,
    updated_at BIGINT NOT NULL,
    spec TEXT NOT NULL
  )`,
];

/** Columns a log written before the audit chain lacks; added (and filled) when the store opens. */
export const CHAIN_COLUMNS = ['prev_hash', 'hash'] as const;

export const INSERT_EVENT = `INSERT INTO events (seq, service, type, at, actor, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

export const UPSERT_HEAD = `INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)
  ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`;

export const UPSERT_STATE = `INSERT INTO service_states (service, seq, state) VALUES (?, ?, ?)
  ON CONFLICT (service) DO UPDATE SET seq = excluded.seq, state = excluded.state`;

export const UPSERT_RELEASE = `INSERT INTO releases (id, service, number, status, started_at, ended_at, release) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO UPDATE SET status = excluded.status, ended_at = excluded.ended_at, release = excluded.release`;

export const INSERT_REVISION = `INSERT INTO revisions (service, key, number, version, template_hash, base_dir, file, created_at, created_by, spec)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** INSERT_REVISION's parameters, in its column order. */
export const revisionParams = (r: StoredRevision): (string | number | null)[] => [
  r.service,
  r.key,
  r.number,
  r.version,
  r.templateHash,
  r.baseDir,
  r.file,
  r.createdAt,
  r.createdBy,
  JSON.stringify(r.spec),
];

export const UPSERT_SERVICE = `INSERT INTO services (name, revision_key, base_dir, file, updated_at, spec) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (name) DO UPDATE SET revision_key = excluded.revision_key, base_dir = excluded.base_dir,
  file = excluded.file, updated_at = excluded.updated_at, spec = excluded.spec`;
