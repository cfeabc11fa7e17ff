/**
 * End to end with a real PostgreSQL 15 (started by the test) and a real server, service processes
 * and traffic through the built-in proxy: a migration whose down does not give back the schema is
 * refused before production; expand → canary → contract completes on a 100,000-row table while
 * both versions serve traffic with no failed request; an undo past the contract is refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ServiceEvent } from '../src/core/events.ts';
import { startLoad } from './support/load.ts';
import { startPostgres, withoutPostgres } from './support/postgres-server.ts';
import { DatabaseSync } from 'node:sqlite';
import { freePort, serviceSpec, SluiceServer } from './support/sluice.ts';

const MIGRATIONS = {
  'expand.up.sql': 'ALTER TABLE orders ADD COLUMN note text;\nCREATE INDEX orders_total ON orders (total);',
  'expand.down.sql': 'DROP INDEX orders_total;\nALTER TABLE orders DROP COLUMN note;',
  'broken.down.sql': 'DROP INDEX orders_total;',
  'contract.up.sql': 'ALTER TABLE orders DROP COLUMN legacy;',
  'contract.down.sql': 'ALTER TABLE orders ADD COLUMN legacy text;',
};

const migrations = (expandDown: string) => `  migrations:
    database: { driver: postgres, url: { env: CHECKOUT_DB_URL } }
    expand: { up: expand.up.sql, down: ${expandDown} }
    contract: { up: contract.up.sql, down: contract.down.sql }
    schema: { compatibleWith: ">=2.0.0" }
`;

test(
  'migrations: a broken down is refused before production; expand → canary → contract on 100,000 rows with no failed request; no undo past the contract',
  { skip: withoutPostgres(), timeout: 150_000 },
  async (t) => {
    const pg = await startPostgres();
    t.after(() => pg.stop());
    await pg.createDatabase('shop');
    await pg.query(
      "CREATE TABLE orders (id bigint PRIMARY KEY, total integer NOT NULL, legacy text); INSERT INTO orders SELECT g, g % 1000, 'x' FROM generate_series(1, 100000) g;",
      'shop',
    );
    const dir = mkdtempSync(join(tmpdir(), 'sluice-migrations-e2e-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    for (const [f, sql] of Object.entries(MIGRATIONS)) writeFileSync(join(dir, f), sql);
    const columns = async () =>
      (
        await pg.query<{ column_name: string }>(
          "SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' ORDER BY column_name",
          'shop',
        )
      ).map((r) => r.column_name);

    // The server reads the database URL from its own environment, never from the spec.
    process.env.CHECKOUT_DB_URL = pg.urlOf('shop');
    const server = await SluiceServer.start();
    t.after(() => server.close());
    const listenPort = await freePort();
    const spec = (version: string, expandDown?: string) =>
      `${serviceSpec({ version, listenPort, instances: 1, steps: ['setWeight: 50', 'pause: { duration: 1s }'] })}${expandDown === undefined ? '' : migrations(expandDown)}`;
    const apply = (text: string) =>
      server.api<{ results?: { action: string }[]; error?: { message: string } }>('POST', '/api/apply', {
        spec: text,
        file: 'checkout.yaml',
        baseDir: dir,
      });
    assert.equal((await apply(spec('1.0.0'))).status, 200);
    await server.waitForPhase('Healthy');

    // A down that leaves the column behind: refused before production, the real database untouched.
    const refused = await apply(spec('2.0.0', 'broken.down.sql'));
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.match(
      refused.body.error!.message,
      /checkout\.yaml: the migrations of checkout 2\.0\.0 were refused before production: expand\.down \(broken\.down\.sql\) does not give back the schema from before expand\.up:\n[\s\S]*column orders\.note text[\s\S]*Nothing was released/,
    );
    assert.deepEqual(await columns(), ['id', 'legacy', 'total']);
    assert.equal((await server.history()).length, 1);
    const rehearsals = (
      await server.api<{ events: ServiceEvent[] }>('GET', '/api/services/checkout/events')
    ).body.events.filter((e) => e.type === 'migration.rehearsed');
    assert.deepEqual(
      rehearsals.map((e) => e.type === 'migration.rehearsed' && e.ok),
      [false],
    );
    const leftover = await pg.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'sluice_rehearsal_%'",
    );
    assert.deepEqual(leftover, [], 'the rehearsal copy was dropped');

    // The good migration, under traffic.
    const load = startLoad({ url: `http://127.0.0.1:${listenPort}/`, rps: 150, durationMs: 90_000 });
    t.after(() => load.stop());
    assert.equal((await apply(spec('2.0.0', 'expand.down.sql'))).status, 200);
    await server.waitFor(
      (s) => s.phase === 'Healthy' && s.stableVersion === '2.0.0',
      'checkout 2.0.0 released',
      60_000,
    );
    let events: ServiceEvent[] = [];
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      events = (await server.api<{ events: ServiceEvent[] }>('GET', '/api/services/checkout/events')).body.events;
      if (events.some((e) => e.type === 'migration.ran' && e.phase === 'contract')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 500));
    const report = await load.stop();

    const ran = events.filter((e) => e.type === 'migration.ran');
    assert.deepEqual(
      ran.map((e) => e.type === 'migration.ran' && `${e.phase}.${e.direction} ${e.ok}`),
      ['expand.up true', 'contract.up true'],
    );
    const expand = ran[0]!;
    const contract = ran[1]!;
    const canaryTraffic = events.find((e) => e.type === 'traffic.shifted' && (e.weights['2'] ?? 0) > 0)!;
    assert.ok(expand.seq < canaryTraffic.seq, 'expand ran before the canary got traffic');
    const oldStopped = events.find((e) => e.type === 'target.stopped' && e.key === '1')!;
    const succeeded = events.find((e) => e.type === 'release.succeeded')!;
    assert.ok(
      contract.seq > oldStopped.seq && contract.seq > succeeded.seq,
      'contract ran once the release succeeded and the old version was gone',
    );
    assert.ok(expand.type === 'migration.ran' && expand.durationMs > 0 && /expand\.up\.sql/.test(expand.output));
    assert.deepEqual(await columns(), ['id', 'note', 'total']);
    assert.equal(Number((await pg.query<{ n: string }>('SELECT count(*) AS n FROM orders', 'shop'))[0]!.n), 100_000);

    assert.equal(report.failed, 0, `failed requests: ${JSON.stringify(report.byVersion)}`);
    assert.ok(
      (report.byVersion['1.0.0']?.ok ?? 0) > 50 && (report.byVersion['2.0.0']?.ok ?? 0) > 50,
      'both versions served traffic',
    );

    // Going back past the contract is refused, and nothing changes.
    const undo = await server.api<{ error: { message: string } }>('POST', '/api/services/checkout/undo', {});
    assert.equal(undo.status, 409);
    assert.match(
      undo.body.error.message,
      /the contract migration of checkout 2\.0\.0 ran at .*: it removed what versions before it need/,
    );
    assert.equal((await server.status()).stableVersion, '2.0.0');
  },
);

test(
  'a database that fails mid-migration: the expand is recorded as failed and the release is held before its canary, never reported done',
  { timeout: 90_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-migrations-sqlite-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const db = new DatabaseSync(join(dir, 'app.db'));
    db.exec('CREATE TABLE orders (id integer primary key)');
    db.close();
    const server = await SluiceServer.start();
    t.after(() => server.close());
    const listenPort = await freePort();
    // The expand works on the rehearsal's copy and fails on the real file, as a full disk would.
    const failing = `["node", "-e", "if (!process.env.SLUICE_DATABASE_PATH.includes('.rehearsal-')) { console.error('disk full'); process.exit(1) }"]`;
    const spec = (version: string, m: boolean) =>
      `${serviceSpec({ version, listenPort, instances: 1 })}${
        m
          ? `  migrations:
    database: { driver: sqlite, path: app.db }
    expand: { up: ${failing}, down: ["node", "-e", "0"] }
`
          : ''
      }`;
    const apply = (text: string) =>
      server.api<{ results: { action: string; message: string }[] }>('POST', '/api/apply', {
        spec: text,
        file: 'checkout.yaml',
        baseDir: dir,
      });
    await apply(spec('1.0.0', false));
    await server.waitForPhase('Healthy');
    const held = await apply(spec('2.0.0', true));
    assert.equal(held.status, 200);
    assert.equal(held.body.results[0]!.action, 'waiting');
    assert.match(
      held.body.results[0]!.message,
      /the expand migration failed on the sqlite database \(node -e .* failed \(1\): disk full\); the release is held before its canary got any traffic/,
    );
    const status = await server.status();
    assert.equal(status.stableVersion, '1.0.0');
    assert.equal(status.canaryVersion, null, 'no canary was started');
    assert.match(status.waiting!.reason, /the expand migration failed/);
    const events = (await server.api<{ events: ServiceEvent[] }>('GET', '/api/services/checkout/events')).body.events;
    const ran = events.filter((e) => e.type === 'migration.ran');
    assert.equal(ran.length, 1);
    assert.ok(
      ran[0]!.type === 'migration.ran' && !ran[0]!.ok && ran[0]!.error !== null && /disk full/.test(ran[0]!.output),
    );
    assert.ok(
      events.some((e) => e.type === 'migration.rehearsed' && e.ok),
      'the rehearsal passed first',
    );
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(
      (await server.api<{ events: ServiceEvent[] }>('GET', '/api/services/checkout/events')).body.events.filter(
        (e) => e.type === 'migration.ran',
      ).length,
      1,
      'not retried by itself',
    );
    assert.deepEqual(
      (await server.history()).map((r) => r.status),
      ['Succeeded'],
      'no release of 2.0.0 was started, none reported done',
    );
    // Applying it again tries the expand again (here it fails again, and is recorded again).
    const again = await apply(spec('2.0.0', true));
    assert.equal(again.body.results[0]!.action, 'waiting');
    assert.equal(
      (await server.api<{ events: ServiceEvent[] }>('GET', '/api/services/checkout/events')).body.events.filter(
        (e) => e.type === 'migration.ran',
      ).length,
      2,
    );
  },
);
