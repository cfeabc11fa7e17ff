import type pg from 'pg';
import type { OutcomeRow, SharedOutcomes } from '../types.ts';

type Row = Record<string, unknown>;

/**
 * The request outcomes applications report per flag variant (flags/flag-telemetry.ts), shared by
 * replicas: each server process writes its own cumulative counts as rows of its own (keyed by its
 * instance, so a restarted process starts new rows and the sums never go back), and the replica
 * that judges a flag reads the sum over every process, whichever replica the reports reached.
 */
export class PostgresFlagOutcomes implements SharedOutcomes {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async put(instance: string, rows: OutcomeRow[]): Promise<void> {
    if (rows.length === 0) return;
    const values: unknown[] = [];
    const tuples = rows.map((r, i) => {
      values.push(r.environment, r.flag, r.variant, r.requests, r.errors, JSON.stringify(r.latency));
      const b = i * 6;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${rows.length * 6 + 1}, $${b + 4}, $${b + 5}, $${b + 6}, $${rows.length * 6 + 2})`;
    });
    values.push(instance, Date.now());
    await this.#pool.query(
      `INSERT INTO flag_outcomes (environment, flag, variant, instance, requests, errors, latency, updated_at)
       VALUES ${tuples.join(', ')}
       ON CONFLICT (flag, environment, variant, instance) DO UPDATE SET
         requests = EXCLUDED.requests, errors = EXCLUDED.errors, latency = EXCLUDED.latency, updated_at = EXCLUDED.updated_at`,
      values,
    );
  }

  async read(flag: string): Promise<OutcomeRow[]> {
    const r = await this.#pool.query(
      'SELECT environment, variant, requests, errors, latency FROM flag_outcomes WHERE flag = $1',
      [flag],
    );
    return r.rows.map((row: Row) => ({
      environment: String(row.environment),
      flag,
      variant: String(row.variant),
      requests: Number(row.requests),
      errors: Number(row.errors),
      latency: JSON.parse(String(row.latency)) as Record<number, number>,
    }));
  }
}
