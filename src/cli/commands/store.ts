import { resolve } from 'node:path';
import { verifyStore } from '../../audit/verify-chain.ts';
import {
  CopyRefused,
  copyFromSqlite,
  PostgresStore,
  SchemaTooNew,
  StoreUnavailable,
} from '../../store/postgres/store-admin.ts';
import { type CommandContext, type CommandDef, EXIT, UsageError } from '../command.ts';

/** `sluice store`: the PostgreSQL store's schema, and moving a one-machine store onto it. Runs against the database, not the API. */
export const storeCommand: CommandDef = {
  name: 'store',
  summary:
    "migrate a PostgreSQL store's schema, or copy a data dir's SQLite store into PostgreSQL (chain verified after)",
  usage:
    'sluice store migrate --store postgres://USER@HOST:PORT/DB | store copy --from DATA_DIR --to postgres://USER@HOST:PORT/DB',
  options: { store: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } },
  args: ['action'],
  async run(ctx) {
    try {
      return await run(ctx);
    } catch (err) {
      // The database's own words (unreachable, read-only, a newer schema, a non-empty target) are the message.
      if (err instanceof StoreUnavailable || err instanceof SchemaTooNew || err instanceof CopyRefused) {
        console.error(`sluice store: ${err.message}`);
        return err instanceof StoreUnavailable && err.retry ? EXIT.unreachable : EXIT.failed;
      }
      throw err;
    }
  },
};

async function run({ positionals, values, out, json }: CommandContext): Promise<number> {
  const [action] = positionals;
  if (action === 'migrate') {
    if (typeof values.store !== 'string')
      throw new UsageError('store migrate needs --store postgres://USER@HOST:PORT/DB');
    const store = await PostgresStore.open(values.store);
    await store.close();
    const m = store.migrated;
    if (json) out(JSON.stringify(m, null, 2));
    else
      out(
        m.applied.length === 0
          ? `schema at version ${m.to}: nothing to migrate`
          : `schema migrated from version ${m.from} to ${m.to} (applied ${m.applied.join(', ')})`,
      );
    return EXIT.ok;
  }
  if (action === 'copy') {
    if (typeof values.from !== 'string' || typeof values.to !== 'string')
      throw new UsageError(
        "store copy needs --from DATA_DIR (a sluice server's data dir) and --to postgres://USER@HOST:PORT/DB",
      );
    const store = await PostgresStore.open(values.to);
    try {
      const copied = await copyFromSqlite(resolve(values.from), store);
      const verified = await verifyStore(store);
      if (json) out(JSON.stringify({ ...copied, verified }, null, 2));
      else {
        out(
          `copied ${Object.entries(copied.rows)
            .map(([t, n]) => `${n} ${t}`)
            .join(', ')}`,
        );
        out(
          verified.ok
            ? `audit trail intact in PostgreSQL: ${verified.checked} events chained${verified.head ? `; head ${verified.head.seq}:${verified.head.hash}` : ''}`
            : `audit trail BROKEN at event ${verified.firstBad!.seq} after the copy: ${verified.firstBad!.reason}`,
        );
      }
      return verified.ok ? EXIT.ok : EXIT.failed;
    } finally {
      await store.close();
    }
  }
  throw new UsageError(`store ${action ?? ''}: unknown action; valid: migrate, copy`);
}
