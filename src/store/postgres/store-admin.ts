/** What the CLI and the server's composition root use of the PostgreSQL store (the lint allowlist names this file). */
export { CopyRefused, copyFromSqlite, type CopyResult } from './copy-from-sqlite.ts';
export { redactUrl, StoreUnavailable } from './connect.ts';
export { SchemaTooNew } from './migrate.ts';
export { PostgresStore } from './postgres-store.ts';
