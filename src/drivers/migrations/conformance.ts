/**
 * The conformance suite every migration database driver passes (sqlite/, postgres/): run it from
 * the driver's test with a factory for a fresh database holding a `users` table with 3 rows.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { rehearse } from './rehearse.ts';
import { runStep } from './run-step.ts';
import type { MigrationDatabase } from './types.ts';

export interface ContractOptions {
  /** A fresh database with `users(id integer primary key, name text)` and 3 rows. */
  fresh(): Promise<MigrationDatabase>;
  /** Count rows of a table in `db` (read outside the driver). */
  count(db: MigrationDatabase, table: string): Promise<number>;
  skip?: string | false;
}

function sqlFiles(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-migrations-'));
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}

const EXPAND = {
  'expand.up.sql': 'ALTER TABLE users ADD COLUMN email text;\nCREATE INDEX users_email ON users (email);',
  'expand.down.sql': 'DROP INDEX users_email;\nALTER TABLE users DROP COLUMN email;',
};

export function migrationDriverConformance(name: string, o: ContractOptions): void {
  const opts = { skip: o.skip ?? false };

  test(
    `${name}: SQL runs in one transaction (a failing statement leaves nothing), and the schema shows the change`,
    opts,
    async () => {
      const db = await o.fresh();
      const before = await db.schema();
      assert.match(before, /users/);
      await assert.rejects(db.exec('ALTER TABLE users ADD COLUMN email text; SELECT * FROM no_such_table;'));
      assert.equal(await db.schema(), before, 'the first statement was rolled back with the failing one');
      await db.exec('ALTER TABLE users ADD COLUMN email text');
      const after = await db.schema();
      assert.notEqual(after, before);
      assert.match(after, /email/);
      assert.equal(await db.schema(), after, 'the dump is stable');
    },
  );

  test(`${name}: a scratch copy holds the data, changes apart from the original, and is dropped`, opts, async () => {
    const db = await o.fresh();
    const copy = await db.scratch();
    assert.equal(await o.count(copy, 'users'), 3);
    await copy.exec('DELETE FROM users; ALTER TABLE users ADD COLUMN email text');
    assert.equal(await o.count(copy, 'users'), 0);
    assert.equal(await o.count(db, 'users'), 3, 'the original is untouched');
    assert.doesNotMatch(await db.schema(), /email/);
    await copy.drop();
    await assert.rejects(copy.schema(), 'the copy is gone');
  });

  test(`${name}: a step is a SQL file or an argv command that gets the database's address`, opts, async () => {
    const db = await o.fresh();
    const dir = sqlFiles(EXPAND);
    const r = await runStep('expand.up.sql', db, dir);
    assert.equal(r.ok, true, r.error ?? '');
    assert.match(await db.schema(), /email/);
    assert.ok(r.durationMs >= 0);
    const cmd = await runStep(
      [
        process.execPath,
        '-e',
        'console.log(Object.keys(process.env).filter((k) => k.startsWith("SLUICE_DATABASE_")).join())',
      ],
      db,
      dir,
    );
    assert.equal(cmd.ok, true, cmd.error ?? '');
    assert.match(cmd.output, /SLUICE_DATABASE_(URL|PATH)/);
    const failed = await runStep([process.execPath, '-e', 'console.error("no such column"); process.exit(3)'], db, dir);
    assert.equal(failed.ok, false);
    assert.match(failed.error!, /failed \(3\): no such column/);
    const missing = await runStep('nope.sql', db, dir);
    assert.equal(missing.ok, false);
    assert.match(missing.error!, /ENOENT/);
  });

  test(
    `${name}: the rehearsal passes a migration whose down restores the schema, and refuses one whose down fails or does not`,
    opts,
    async () => {
      const db = await o.fresh();
      const before = await db.schema();
      const dir = sqlFiles({
        ...EXPAND,
        'keeps-column.down.sql': 'DROP INDEX users_email;',
        'broken.down.sql': 'DROP TABLE no_such_table;',
        'contract.up.sql': 'DROP INDEX users_email;',
        'contract.down.sql': 'CREATE INDEX users_email ON users (email);',
      });
      const good = await rehearse(
        {
          database: { driver: 'sqlite', path: '-' },
          expand: { up: 'expand.up.sql', down: 'expand.down.sql' },
          contract: { up: 'contract.up.sql', down: 'contract.down.sql' },
        },
        db,
        dir,
      );
      assert.equal(good.ok, true, good.problem ?? '');
      assert.deepEqual(
        good.steps.map((s) => `${s.phase} ${s.direction}`),
        ['expand up', 'expand down', 'expand up again', 'contract up', 'contract down', 'contract up again'],
      );
      assert.equal(await db.schema(), before, 'the rehearsal never touches the real database');

      const broken = await rehearse(
        { database: { driver: 'sqlite', path: '-' }, expand: { up: 'expand.up.sql', down: 'broken.down.sql' } },
        db,
        dir,
      );
      assert.equal(broken.ok, false);
      assert.match(
        broken.problem!,
        /expand\.down \(broken\.down\.sql\) failed on the rehearsal copy, so this release could not be undone/,
      );

      const partial = await rehearse(
        { database: { driver: 'sqlite', path: '-' }, expand: { up: 'expand.up.sql', down: 'keeps-column.down.sql' } },
        db,
        dir,
      );
      assert.equal(partial.ok, false, 'a column left behind is caught');
      assert.match(
        partial.problem!,
        /expand\.down \(keeps-column\.down\.sql\) does not give back the schema from before expand\.up:\n[\s\S]*\+ .*email/,
      );
      assert.equal(await db.schema(), before);
    },
  );
}
