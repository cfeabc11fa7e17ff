/**
 * A real PostgreSQL 15 for tests: `initdb` in a temp dir and `postgres` on a free loopback port,
 * torn down after. Trust authentication on loopback for the user `sluice`; fsync off (a test's
 * database need not survive a power cut). As root (CI), the server runs as the `postgres` user,
 * since PostgreSQL refuses to run as root. Self-contained: any test that needs a database uses it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, appendFileSync, chownSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freeListenPort } from '../../src/drivers/free-port.ts';

export const POSTGRES_BIN = process.env.SLUICE_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

/** A skip reason when PostgreSQL 15 is missing here (and CI does not require it), else false. */
export function withoutPostgres(): string | false {
  try {
    accessSync(join(POSTGRES_BIN, 'postgres'), constants.X_OK);
    return false;
  } catch {
    if (process.env.SLUICE_TEST_SERVERS === 'required') return false;
    return `PostgreSQL 15 is not installed in ${POSTGRES_BIN}: apt-get install postgresql (bash .ci/run does)`;
  }
}

/** PostgreSQL refuses to run as root: as root, its files and process belong to the `postgres` user. */
function runAs(): { uid: number; gid: number } | null {
  if (userInfo().uid !== 0) return null;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * Where the server runs: by default on 127.0.0.1 here; with `netns`, inside that network namespace
 * (`ip netns exec`, as root) listening on `host`, an address of that namespace, and taking
 * connections from `clients` (a CIDR: the other hosts of the test's network).
 */
export interface PostgresPlace {
  host: string;
  netns: string;
  clients: string;
}

export class TestPostgres {
  readonly dir: string;
  readonly port: number;
  readonly host: string;
  readonly #place: PostgresPlace | null;
  #child: ChildProcess | null = null;
  #log = '';
  #databases = 0;

  private constructor(dir: string, port: number, place: PostgresPlace | null) {
    this.dir = dir;
    this.port = port;
    this.host = place?.host ?? '127.0.0.1';
    this.#place = place;
  }

  /** initdb and start; the caller stops it (`stop`), which also removes its files. */
  static async start(place: PostgresPlace | null = null): Promise<TestPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-pg-'));
    const user = runAs();
    if (user !== null) chownSync(dir, user.uid, user.gid);
    const init = spawnSync(
      join(POSTGRES_BIN, 'initdb'),
      ['-D', join(dir, 'data'), '-U', 'sluice', '--auth=trust', '-E', 'UTF8', '--no-sync'],
      {
        encoding: 'utf8',
        ...(user !== null && { uid: user.uid, gid: user.gid }),
        cwd: dir,
      },
    );
    if (init.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`initdb failed (${init.status}): ${init.stderr || init.error?.message}`);
    }
    if (place !== null)
      appendFileSync(join(dir, 'data', 'pg_hba.conf'), `host all all ${place.clients} trust\n`, 'utf8');
    const pgServer = new TestPostgres(dir, await freeListenPort(), place);
    await pgServer.resume();
    return pgServer;
  }

  /** A connection URL for `database` (default: the server's own `postgres` database). */
  url(database = 'postgres'): string {
    return `postgres://sluice@${this.host}:${this.port}/${database}`;
  }

  /** A new empty database, and its URL. */
  async createDatabase(prefix = 'sluice'): Promise<string> {
    const name = `${prefix}_${process.pid}_${++this.#databases}`;
    const client = new pg.Client({ connectionString: this.url() });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  /** Start the server (again, after `pause`) and wait until it accepts connections. */
  async resume(): Promise<void> {
    const user = runAs();
    this.#log = '';
    const postgres = [
      join(POSTGRES_BIN, 'postgres'),
      '-D',
      join(this.dir, 'data'),
      '-h',
      this.host,
      '-p',
      String(this.port),
      '-k',
      this.dir,
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ];
    // In a namespace: `ip netns exec` needs root, then setpriv drops to the postgres user; both exec,
    // so the child's pid is the postmaster's.
    const child =
      this.#place === null
        ? spawn(postgres[0]!, postgres.slice(1), {
            stdio: ['ignore', 'pipe', 'pipe'],
            cwd: this.dir,
            ...(user !== null && { uid: user.uid, gid: user.gid }),
          })
        : spawn(
            'ip',
            [
              'netns',
              'exec',
              this.#place.netns,
              'setpriv',
              `--reuid=${user?.uid ?? process.getuid!()}`,
              `--regid=${user?.gid ?? process.getgid!()}`,
              '--clear-groups',
              ...postgres,
            ],
            { stdio: ['ignore', 'pipe', 'pipe'], cwd: this.dir },
          );
    child.stdout!.on('data', (d: Buffer) => (this.#log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.#log += d.toString()));
    this.#child = child;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`postgres exited (${child.exitCode}):\n${this.#log.slice(-2000)}`);
      const client = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 1000 });
      try {
        await client.connect();
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline)
          throw new Error(`postgres did not accept connections within 30 s:\n${this.#log.slice(-2000)}`);
        await sleep(100);
      }
    }
  }

  /** The postmaster's pid (null: not running); its backends are its children. */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** Stop the server (fast shutdown: connections are cut), keeping its files for `resume`. */
  async pause(): Promise<void> {
    const child = this.#child;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
    this.#child = null;
  }

  log(): string {
    return this.#log;
  }

  /** Stop the server and remove its files. */
  async stop(): Promise<void> {
    await this.pause();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
