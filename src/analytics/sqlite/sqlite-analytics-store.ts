import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { KeysFilter } from '../../core/analytics/four-keys.ts';
import type { VersionCommits } from '../../core/analytics/import-lines.ts';
import type { Commit, Deployment, History, Incident, Window } from '../../core/analytics/types.ts';
import type { AnalyticsStore, PutCounts } from '../analytics-store.ts';

type Row = Record<string, SQLInputValue>;
type Cell = SQLInputValue | undefined;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS deployments (
    id TEXT PRIMARY KEY, service TEXT NOT NULL, environment TEXT NOT NULL, team TEXT, version TEXT NOT NULL,
    started_at INTEGER NOT NULL, finished_at INTEGER NOT NULL, result TEXT NOT NULL, first_traffic_at INTEGER,
    traffic_reverted_at INTEGER, revert_ms INTEGER, commits TEXT NOT NULL, progressive INTEGER, rehearsed INTEGER,
    behind_flag INTEGER, source TEXT NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS deployments_by_time ON deployments (environment, finished_at)',
  'CREATE INDEX IF NOT EXISTS deployments_by_service ON deployments (environment, service, finished_at)',
  `CREATE TABLE IF NOT EXISTS deployment_commits (
    sha TEXT NOT NULL, deployment_id TEXT NOT NULL, environment TEXT NOT NULL, service TEXT NOT NULL, finished_at INTEGER NOT NULL,
    success INTEGER NOT NULL, PRIMARY KEY (deployment_id, sha))`,
  'CREATE INDEX IF NOT EXISTS deployment_commits_by_sha ON deployment_commits (sha, environment, finished_at)',
  'CREATE INDEX IF NOT EXISTS deployment_commits_by_time ON deployment_commits (environment, finished_at)',
  // Each commit's first successful deployment per environment and service (core's isEarlierShipment), kept as deployments are written.
  `CREATE TABLE IF NOT EXISTS first_shipments (
    environment TEXT NOT NULL, service TEXT NOT NULL, sha TEXT NOT NULL, team TEXT, deployment_id TEXT NOT NULL, shipped_at INTEGER NOT NULL,
    PRIMARY KEY (environment, service, sha))`,
  'CREATE INDEX IF NOT EXISTS first_shipments_by_time ON first_shipments (environment, shipped_at)',
  'CREATE TABLE IF NOT EXISTS commits (sha TEXT PRIMARY KEY, service TEXT NOT NULL, committed_at INTEGER NOT NULL, message TEXT)',
  `CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY, service TEXT NOT NULL, environment TEXT NOT NULL, opened_at INTEGER NOT NULL, resolved_at INTEGER)`,
  'CREATE INDEX IF NOT EXISTS incidents_by_time ON incidents (environment, opened_at)',
  'CREATE TABLE IF NOT EXISTS version_commits (service TEXT NOT NULL, version TEXT NOT NULL, sha TEXT NOT NULL, PRIMARY KEY (service, version, sha))',
  'CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)',
];

const COLUMNS =
  'id, service, environment, team, version, started_at, finished_at, result, first_traffic_at, traffic_reverted_at, revert_ms, commits, progressive, rehearsed, behind_flag, source';
const bool = (v: boolean | null) => (v === null ? null : v ? 1 : 0);
const fromBool = (v: Cell) => (v === null ? null : v === 1);
const num = (v: Cell) => (v === null || v === undefined ? null : Number(v));

function toDeployment(r: Row): Deployment {
  return {
    id: String(r.id),
    service: String(r.service),
    environment: String(r.environment),
    team: r.team === null ? null : String(r.team),
    version: String(r.version),
    startedAt: Number(r.started_at),
    finishedAt: Number(r.finished_at),
    result: r.result === 'rolledback' ? 'rolledback' : 'success',
    firstTrafficAt: num(r.first_traffic_at),
    trafficRevertedAt: num(r.traffic_reverted_at),
    revertMs: num(r.revert_ms),
    commits: r.commits === '[]' ? [] : (JSON.parse(String(r.commits)) as string[]),
    progressive: fromBool(r.progressive),
    rehearsed: fromBool(r.rehearsed),
    behindFlag: fromBool(r.behind_flag),
    source: r.source === 'sluice' ? 'sluice' : 'import',
  };
}

/** Filter clauses on the deployments table (alias `d`), with their parameters. */
function where(f: KeysFilter): { sql: string; params: SQLInputValue[] } {
  const parts = ['d.environment = ?'];
  const params: SQLInputValue[] = [f.environment];
  if (f.service !== undefined) {
    parts.push('d.service = ?');
    params.push(f.service);
  }
  if (f.team !== undefined) {
    parts.push('d.team = ?');
    params.push(f.team);
  }
  return { sql: parts.join(' AND '), params };
}

/** The analytics history in a SQLite file of its own under the data dir (WAL, like the log's). */
export class SqliteAnalyticsStore implements AnalyticsStore {
  readonly #db: DatabaseSync;
  readonly #insertImported: StatementSync;
  readonly #replaceSluice: StatementSync;
  readonly #insertLink: StatementSync;
  readonly #deleteLinks: StatementSync;
  readonly #insertCommit: StatementSync;
  readonly #ship: StatementSync;
  readonly #readIncident: StatementSync;
  readonly #upsertIncident: StatementSync;
  readonly #insertVersionCommit: StatementSync;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL');
    this.#db.exec('PRAGMA synchronous = NORMAL');
    this.#db.exec('PRAGMA busy_timeout = 5000');
    for (const ddl of SCHEMA) this.#db.exec(ddl);
    const values = `(${COLUMNS.split(',')
      .map(() => '?')
      .join(', ')})`;
    this.#insertImported = this.#db.prepare(`INSERT OR IGNORE INTO deployments (${COLUMNS}) VALUES ${values}`);
    this.#replaceSluice = this.#db.prepare(`INSERT OR REPLACE INTO deployments (${COLUMNS}) VALUES ${values}`);
    this.#insertLink = this.#db.prepare(
      'INSERT OR IGNORE INTO deployment_commits (sha, deployment_id, environment, service, finished_at, success) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#deleteLinks = this.#db.prepare('DELETE FROM deployment_commits WHERE deployment_id = ?');
    this.#ship = this.#db
      .prepare(`INSERT INTO first_shipments (environment, service, sha, team, deployment_id, shipped_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (environment, service, sha) DO UPDATE SET team = excluded.team, deployment_id = excluded.deployment_id, shipped_at = excluded.shipped_at
      WHERE excluded.shipped_at < first_shipments.shipped_at OR (excluded.shipped_at = first_shipments.shipped_at AND excluded.deployment_id < first_shipments.deployment_id)`);
    this.#insertCommit = this.#db.prepare(
      'INSERT OR IGNORE INTO commits (sha, service, committed_at, message) VALUES (?, ?, ?, ?)',
    );
    this.#readIncident = this.#db.prepare('SELECT resolved_at FROM incidents WHERE id = ?');
    this.#upsertIncident = this.#db.prepare(
      'INSERT INTO incidents (id, service, environment, opened_at, resolved_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET resolved_at = excluded.resolved_at',
    );
    this.#insertVersionCommit = this.#db.prepare(
      'INSERT OR IGNORE INTO version_commits (service, version, sha) VALUES (?, ?, ?)',
    );
  }

  #transaction<T>(fn: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.#db.exec('COMMIT');
      return out;
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  putDeployments(deployments: readonly Deployment[]): PutCounts {
    return this.#transaction(() => {
      const counts = { added: 0, unchanged: 0, updated: 0 };
      for (const d of deployments) {
        const row = [
          d.id,
          d.service,
          d.environment,
          d.team,
          d.version,
          d.startedAt,
          d.finishedAt,
          d.result,
          d.firstTrafficAt,
          d.trafficRevertedAt,
          d.revertMs,
          JSON.stringify(d.commits),
          bool(d.progressive),
          bool(d.rehearsed),
          bool(d.behindFlag),
          d.source,
        ];
        if (d.source === 'sluice') {
          const before = this.#db.prepare(`SELECT ${COLUMNS} FROM deployments WHERE id = ?`).get(d.id) as
            Row | undefined;
          if (before !== undefined && JSON.stringify(toDeployment(before)) === JSON.stringify(d)) {
            counts.unchanged++;
            continue;
          }
          this.#replaceSluice.run(...row);
          this.#deleteLinks.run(d.id);
          this.#reship(d.id);
          counts[before === undefined ? 'added' : 'updated']++;
        } else if (Number(this.#insertImported.run(...row).changes) === 0) {
          counts.unchanged++;
          continue;
        } else counts.added++;
        for (const sha of d.commits) {
          this.#insertLink.run(sha, d.id, d.environment, d.service, d.finishedAt, d.result === 'success' ? 1 : 0);
          if (d.result === 'success') this.#ship.run(d.environment, d.service, sha, d.team, d.id, d.finishedAt);
        }
      }
      return counts;
    });
  }

  /** A replaced deployment's first shipments go back to the next earliest successful deployment of each commit. */
  #reship(deploymentId: string): void {
    const rows = this.#db
      .prepare('SELECT environment, service, sha FROM first_shipments WHERE deployment_id = ?')
      .all(deploymentId) as Row[];
    this.#db.prepare('DELETE FROM first_shipments WHERE deployment_id = ?').run(deploymentId);
    for (const r of rows) {
      const links = this.#db
        .prepare(
          `SELECT dc.deployment_id, dc.finished_at, d.team FROM deployment_commits dc JOIN deployments d ON d.id = dc.deployment_id
        WHERE dc.sha = ? AND dc.environment = ? AND dc.service = ? AND dc.success = 1`,
        )
        .all(r.sha!, r.environment!, r.service!) as Row[];
      for (const l of links)
        this.#ship.run(r.environment!, r.service!, r.sha!, l.team ?? null, l.deployment_id!, l.finished_at!);
    }
  }

  putCommits(commits: readonly Commit[]): PutCounts {
    return this.#transaction(() => {
      let added = 0;
      for (const c of commits)
        added += Number(this.#insertCommit.run(c.sha, c.service, c.committedAt, c.message).changes);
      return { added, unchanged: commits.length - added, updated: 0 };
    });
  }

  putIncidents(incidents: readonly Incident[]): PutCounts {
    return this.#transaction(() => {
      const counts = { added: 0, unchanged: 0, updated: 0 };
      for (const i of incidents) {
        const before = this.#readIncident.get(i.id) as Row | undefined;
        if (before !== undefined && num(before.resolved_at) === i.resolvedAt) {
          counts.unchanged++;
          continue;
        }
        this.#upsertIncident.run(i.id, i.service, i.environment, i.openedAt, i.resolvedAt);
        counts[before === undefined ? 'added' : 'updated']++;
      }
      return counts;
    });
  }

  putVersionCommits(mappings: readonly VersionCommits[]): PutCounts {
    return this.#transaction(() => {
      let added = 0;
      let total = 0;
      for (const m of mappings)
        for (const sha of m.commits) {
          total++;
          added += Number(this.#insertVersionCommit.run(m.service, m.version, sha).changes);
        }
      return { added, unchanged: total - added, updated: 0 };
    });
  }

  versionCommits(service: string): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const r of this.#db
      .prepare('SELECT version, sha FROM version_commits WHERE service = ? ORDER BY rowid')
      .all(service) as Row[]) {
      out.set(String(r.version), [...(out.get(String(r.version)) ?? []), String(r.sha)]);
    }
    return out;
  }

  history(filter: KeysFilter, window: Window): History {
    const w = where(filter);
    // Rows as arrays of the columns the keys read (the keys read first shipments below, not each deployment's commits).
    const keyRows = (sql: string, params: SQLInputValue[]): Deployment[] => {
      const stmt = this.#db.prepare(sql);
      stmt.setReturnArrays(true);
      return (stmt.all(...params) as unknown as Cell[][]).map((r) => ({
        id: String(r[0]),
        service: String(r[1]),
        environment: filter.environment,
        team: r[2] == null ? null : String(r[2]),
        version: String(r[3]),
        startedAt: Number(r[4]),
        finishedAt: Number(r[5]),
        result: r[6] === 'rolledback' ? 'rolledback' : 'success',
        firstTrafficAt: num(r[7]),
        trafficRevertedAt: num(r[8]),
        revertMs: num(r[9]),
        commits: [],
        progressive: fromBool(r[10] ?? null),
        rehearsed: fromBool(r[11] ?? null),
        behindFlag: fromBool(r[12] ?? null),
        source: r[13] === 'sluice' ? 'sluice' : 'import',
      }));
    };
    const columns =
      'd.id, d.service, d.team, d.version, d.started_at, d.finished_at, d.result, d.first_traffic_at, d.traffic_reverted_at, d.revert_ms, d.progressive, d.rehearsed, d.behind_flag, d.source';
    const inWindow = keyRows(
      `SELECT ${columns} FROM deployments d WHERE ${w.sql} AND d.finished_at >= ? AND d.finished_at < ? ORDER BY d.finished_at, d.id`,
      [...w.params, window.since, window.until],
    );
    // The next deployment of each service after the window: an incident before it still fails the window's last one.
    const next = keyRows(
      `SELECT ${columns}, MIN(d.finished_at) FROM deployments d WHERE ${w.sql} AND d.finished_at >= ? GROUP BY d.service`,
      [...w.params, window.until],
    );
    const deployments = [...inWindow, ...next];
    const shipFilter = `${filter.service === undefined ? '' : ' AND fs.service = ?'}${filter.team === undefined ? '' : ' AND fs.team = ?'}`;
    // Only the two times each (the keys need no more): no strings made for 50,000 rows.
    const shipments = this.#db
      .prepare(`SELECT fs.shipped_at, c.committed_at FROM first_shipments fs LEFT JOIN commits c ON c.sha = fs.sha
        WHERE fs.environment = ? AND fs.shipped_at >= ? AND fs.shipped_at < ?${shipFilter} ORDER BY fs.shipped_at`);
    shipments.setReturnArrays(true);
    const shipped = (
      shipments.all(
        filter.environment,
        window.since,
        window.until,
        ...(filter.service === undefined ? [] : [filter.service]),
        ...(filter.team === undefined ? [] : [filter.team]),
      ) as unknown as Cell[][]
    ).map(([shippedAt, committedAt]) => ({
      sha: '',
      deploymentId: '',
      shippedAt: Number(shippedAt),
      committedAt: num(committedAt),
    }));
    // Incidents up to the last of those next deployments (or without end, if a service has none yet).
    const nextBy = new Map(next.map((d) => [d.service, d.finishedAt]));
    const windowServices = [...new Set(inWindow.map((d) => d.service))];
    const horizon = windowServices.every((s) => nextBy.has(s))
      ? Math.max(window.until, ...windowServices.map((s) => nextBy.get(s)!))
      : Number.MAX_SAFE_INTEGER;
    // A team's services: those any deployment of the environment labels with it (an incident has no team of its own).
    const teamServices =
      filter.team === undefined
        ? undefined
        : (
            this.#db
              .prepare('SELECT DISTINCT service FROM deployments WHERE environment = ? AND team = ?')
              .all(filter.environment, filter.team) as Row[]
          ).map((r) => String(r.service));
    const services =
      filter.service !== undefined
        ? ' AND i.service = ?'
        : teamServices !== undefined
          ? ` AND i.service IN (${teamServices.map(() => '?').join(', ') || 'NULL'})`
          : '';
    const incidents = (
      this.#db
        .prepare(
          `SELECT i.id, i.service, i.environment, i.opened_at, i.resolved_at FROM incidents i WHERE i.environment = ? AND i.opened_at >= ? AND i.opened_at < ?${services}`,
        )
        .all(
          filter.environment,
          window.since,
          horizon,
          ...(filter.service !== undefined ? [filter.service] : (teamServices ?? [])),
        ) as Row[]
    ).map((r) => ({
      id: String(r.id),
      service: String(r.service),
      environment: String(r.environment),
      openedAt: Number(r.opened_at),
      resolvedAt: num(r.resolved_at),
    }));
    return {
      deployments,
      commits: [],
      incidents,
      shipments: shipped,
      ...(teamServices !== undefined && { teamServices }),
    };
  }

  deployments(filter: KeysFilter, window: Window, limit: number): Deployment[] {
    const w = where(filter);
    return (
      this.#db
        .prepare(
          `SELECT ${COLUMNS} FROM deployments d WHERE ${w.sql} AND d.finished_at >= ? AND d.finished_at < ? ORDER BY d.finished_at DESC LIMIT ?`,
        )
        .all(...w.params, window.since, window.until, limit) as Row[]
    ).map(toDeployment);
  }

  commits(shas: readonly string[]): Commit[] {
    if (shas.length === 0) return [];
    return (
      this.#db
        .prepare(
          `SELECT sha, service, committed_at, message FROM commits WHERE sha IN (${shas.map(() => '?').join(', ')})`,
        )
        .all(...shas) as Row[]
    ).map(toCommit);
  }

  catalogue(): { services: { service: string; team: string | null }[]; environments: string[] } {
    const services = (
      this.#db
        .prepare('SELECT service, MAX(team) AS team FROM deployments GROUP BY service ORDER BY service')
        .all() as Row[]
    ).map((r) => ({ service: String(r.service), team: r.team === null ? null : String(r.team) }));
    const environments = (
      this.#db.prepare('SELECT DISTINCT environment FROM deployments ORDER BY environment').all() as Row[]
    ).map((r) => String(r.environment));
    return { services, environments };
  }

  projectedSeq(): number {
    const r = this.#db.prepare("SELECT value FROM meta WHERE key = 'log_seq'").get() as Row | undefined;
    return r === undefined ? 0 : Number(r.value);
  }

  setProjectedSeq(seq: number): void {
    this.#db
      .prepare(
        "INSERT INTO meta (key, value) VALUES ('log_seq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      )
      .run(String(seq));
  }

  close(): void {
    this.#db.close();
  }
}

function toCommit(r: Row): Commit {
  return {
    sha: String(r.sha),
    service: String(r.service),
    committedAt: Number(r.committed_at),
    message: r.message === null ? null : String(r.message),
  };
}
