/**
 * A real PostgreSQL 15 from Debian's package for one test: initdb in a temp dir, `postgres` on a
 * free loopback port (and a socket in that dir), torn down with its files after. As root (initdb
 * refuses root), the server runs as the `postgres` user. Without the package, tests skip saying
 * what to install, unless SLUICE_TEST_SERVERS=required (CI), where they fail.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freeListenPort } from '../../src/drivers/free-port.ts';

export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';

/** A skip reason when PostgreSQL 15 is missing here (and CI does not require it), else false. */
export function withoutPostgres(): string | false {
  try {
    accessSync(join(POSTGRES_BIN, 'postgres'), constants.X_OK);
    return false;
  } catch {
    return process.env.SLUICE_TEST_SERVERS === 'required'
      ? false
      : `PostgreSQL 15 is not installed (${POSTGRES_BIN}): apt-get install postgresql (bash .ci/run does)`;
  }
}

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  /** The URL of database `name` on this server. */
  urlOf(name: string): string;
  createDatabase(name: string): Promise<void>;
  query<T extends pg.QueryResultRow>(sql: string, database?: string): Promise<T[]>;
  stop(): Promise<void>;
}

/** As root, run as `postgres`: its uid and gid (initdb and postgres refuse to run as root). */
function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export async function startPostgres(): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pg-'));
  const user = runAs();
  if (user !== null) {
    chmodSync(dir, 0o700);
    chownSync(dir, user.uid, user.gid);
  }
  const as = user === null ? {} : { uid: user.uid, gid: user.gid };
  const data = join(dir, 'data');
  execFileSync(
    join(POSTGRES_BIN, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'],
    { ...as, stdio: 'pipe', cwd: dir },
  );
  const port = await freeListenPort();
  let log = '';
  const child: ChildProcess = spawn(
    join(POSTGRES_BIN, 'postgres'),
    [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'max_connections=50',
    ],
    { ...as, stdio: ['ignore', 'pipe', 'pipe'], cwd: dir },
  );
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const urlOf = (name: string) => `postgres://postgres@127.0.0.1:${port}/${name}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT'); // fast shutdown
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const until = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`postgres exited ${child.exitCode}:\n${log}`);
    }
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.end();
      break;
    } catch {
      await c.end().catch(() => undefined);
      if (Date.now() > until) {
        await stop();
        throw new Error(`postgres did not accept connections within 30 s:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const query = async <T extends pg.QueryResultRow>(sql: string, database = 'postgres') => {
    const c = new pg.Client({ connectionString: urlOf(database) });
    await c.connect();
    try {
      return (await c.query<T>(sql)).rows;
    } finally {
      await c.end();
    }
  };
  return { url, urlOf, stop, query, createDatabase: async (name) => void (await query(`CREATE DATABASE "${name}"`)) };
}
