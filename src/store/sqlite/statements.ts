import type { DatabaseSync, StatementSync } from 'node:sqlite';

const prepared = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

/**
 * The database's statement for `sql`, prepared the first time it is asked for and reused after:
 * preparing (parsing and planning) cost as much as running the chain head's read, once per commit.
 */
export function statement(db: DatabaseSync, sql: string): StatementSync {
  let byText = prepared.get(db);
  if (byText === undefined) prepared.set(db, (byText = new Map()));
  let s = byText.get(sql);
  if (s === undefined) byText.set(sql, (s = db.prepare(sql)));
  return s;
}
