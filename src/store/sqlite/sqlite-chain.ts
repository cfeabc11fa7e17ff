import type { DatabaseSync } from 'node:sqlite';
import { eventHash, GENESIS_HASH } from '../event-hash.ts';
import { CHAIN_COLUMNS, UPSERT_HEAD } from '../sql.ts';
import { statement } from './statements.ts';
import type { ChainHead, ChainRow } from '../types.ts';

type Row = Record<string, unknown>;

export function toChainRow(row: Row): ChainRow {
  return {
    seq: Number(row.seq),
    service: String(row.service),
    type: String(row.type),
    at: Number(row.at),
    actor: String(row.actor),
    body: String(row.body),
    prevHash: row.prev_hash === null ? null : String(row.prev_hash),
    hash: row.hash === null ? null : String(row.hash),
  };
}

/** The head recorded beside the log (null for an empty log, or one whose head row was removed). */
export function readHead(db: DatabaseSync): ChainHead | null {
  const head = statement(db, 'SELECT seq, hash FROM audit_head WHERE id = 1').get() as Row | undefined;
  return head === undefined ? null : { seq: Number(head.seq), hash: String(head.hash) };
}

/** What the next event chains to: the recorded head, else the last event, else the genesis. */
export function chainTip(db: DatabaseSync): ChainHead {
  const head = readHead(db);
  if (head !== null) return head;
  const last = statement(db, 'SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as Row | undefined;
  return last === undefined
    ? { seq: 0, hash: GENESIS_HASH }
    : { seq: Number(last.seq), hash: String(last.hash ?? GENESIS_HASH) };
}

/**
 * A log written before the audit chain existed gets its columns and its hashes when first opened
 * by this version: the chain then vouches for the log from that moment on, not for what happened
 * to it before (docs/audit.md).
 */
export function migrateChain(db: DatabaseSync): void {
  const columns = new Set((db.prepare('PRAGMA table_info(events)').all() as Row[]).map((c) => String(c.name)));
  const missing = CHAIN_COLUMNS.filter((c) => !columns.has(c));
  // Only a log from before the chain is chained here: re-chaining a chained log would hide tampering.
  if (missing.length === 0) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    for (const c of missing) db.exec(`ALTER TABLE events ADD COLUMN ${c} TEXT`);
    let prev = GENESIS_HASH;
    let seq = 0;
    const update = db.prepare('UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?');
    for (const row of db.prepare('SELECT * FROM events ORDER BY seq').iterate() as Iterable<Row>) {
      const r = toChainRow(row);
      const hash = eventHash(prev, { ...JSON.parse(r.body), service: r.service, at: r.at, actor: r.actor, seq: r.seq });
      update.run(prev, hash, r.seq);
      prev = hash;
      seq = r.seq;
    }
    if (seq > 0) db.prepare(UPSERT_HEAD).run(seq, prev);
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}
