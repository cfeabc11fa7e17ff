import pg from 'pg';
import { FencedWrite, type Fence, type Lease, type LeaseStore } from '../types.ts';
import { EVENTS_CHANNEL } from './connect.ts';

/** The database's clock in epoch milliseconds: every replica's leases are timed by one clock. */
const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

type Row = Record<string, unknown>;
const toLease = (r: Row): Lease => ({
  service: String(r.service),
  holder: String(r.holder),
  epoch: Number(r.epoch),
  expiresAt: Number(r.expires_at),
});

/** Leases and replica ids in the shared database (see LeaseStore in ../types.ts). */
export class PostgresLeases implements LeaseStore {
  readonly #url: string;
  readonly #pool: pg.Pool;
  readonly #listeners = new Set<() => Promise<void>>();

  constructor(url: string, pool: pg.Pool) {
    this.#url = url;
    this.#pool = pool;
  }

  async leases(): Promise<Lease[]> {
    return (await this.#pool.query('SELECT * FROM leases ORDER BY service COLLATE "C"')).rows.map(toLease);
  }

  async claim(service: string, holder: string, ttlMs: number, epoch: number | null): Promise<Lease | null> {
    // Ours already: renewed, the epoch kept when it is the one we hold (a restart of the same
    // replica id takes a new one). Free or lapsed: taken, with the next epoch.
    const r = await this.#pool.query(
      `INSERT INTO leases (service, holder, epoch, expires_at) VALUES ($1, $2, 1, ${NOW_MS} + $3)
       ON CONFLICT (service) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at,
         epoch = CASE WHEN leases.holder = EXCLUDED.holder AND leases.epoch = $4 THEN leases.epoch ELSE leases.epoch + 1 END
       WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < ${NOW_MS}
       RETURNING *`,
      [service, holder, ttlMs, epoch ?? -1],
    );
    const row = r.rows[0] as Row | undefined;
    return row === undefined ? null : toLease(row);
  }

  async release(service: string, holder: string, epoch: number): Promise<void> {
    await this.#pool.query('UPDATE leases SET expires_at = 0 WHERE service = $1 AND holder = $2 AND epoch = $3', [
      service,
      holder,
      epoch,
    ]);
  }

  /** Inside a commit's transaction: the fence must be the lease as it stands (held FOR SHARE until commit, so no claim slips between). */
  async check(c: pg.ClientBase, service: string, fence: Fence): Promise<void> {
    const row = (await c.query('SELECT * FROM leases WHERE service = $1 FOR SHARE', [service])).rows[0] as
      Row | undefined;
    const current = row === undefined ? null : toLease(row);
    if (current === null || current.epoch !== fence.epoch || current.holder !== fence.holder)
      throw new FencedWrite(service, fence, current);
  }

  async heartbeat(replica: string, instance: string, url: string | null, ttlMs: number): Promise<boolean> {
    const r = await this.#pool.query(
      `INSERT INTO replicas (id, instance, url, seen_at) VALUES ($1, $2, $3, ${NOW_MS})
       ON CONFLICT (id) DO UPDATE SET instance = EXCLUDED.instance, url = EXCLUDED.url, seen_at = EXCLUDED.seen_at
       WHERE replicas.instance = EXCLUDED.instance OR replicas.seen_at < ${NOW_MS} - $4
       RETURNING id`,
      [replica, instance, url, ttlMs],
    );
    return r.rowCount === 1;
  }

  async replicas(ttlMs: number): Promise<string[]> {
    return (
      await this.#pool.query(`SELECT id FROM replicas WHERE seen_at >= ${NOW_MS} - $1 ORDER BY id COLLATE "C"`, [ttlMs])
    ).rows.map((r: Row) => String(r.id));
  }

  /** One connection of its own LISTENs; when it breaks it is opened again every second until stopped. */
  async listen(wake: (service: string) => void): Promise<() => Promise<void>> {
    let stopped = false;
    let client: pg.Client | null = null;
    let retry: NodeJS.Timeout | undefined;
    const connect = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: this.#url, connectionTimeoutMillis: 3000 });
      c.on('notification', (n) => {
        if (n.payload !== undefined) wake(n.payload);
      });
      c.on('error', () => reconnect());
      c.on('end', () => reconnect());
      try {
        await c.connect();
        await c.query(`LISTEN ${EVENTS_CHANNEL}`);
        client = c;
        // Whatever was committed while not listening is found by the readers' own catch-up.
        wake('*');
      } catch {
        await c.end().catch(() => undefined);
        reconnect();
      }
    };
    const reconnect = (): void => {
      client = null;
      if (stopped || retry !== undefined) return;
      retry = setTimeout(() => {
        retry = undefined;
        void connect();
      }, 1000);
    };
    await connect();
    const stop = async (): Promise<void> => {
      stopped = true;
      clearTimeout(retry);
      this.#listeners.delete(stop);
      await (client as pg.Client | null)?.end().catch(() => undefined);
    };
    this.#listeners.add(stop);
    return stop;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#listeners].map((stop) => stop()));
  }
}
