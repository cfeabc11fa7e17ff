/**
 * Schema migrations as steps of a release (docs/trains.md): rehearsed on a throwaway copy before
 * production (a refused rehearsal refuses the release); expand on the real database right before
 * the canary gets traffic; contract once the release succeeded (its Verify window passed) and the
 * old version is stopped. Each is an event with its duration and output. A failed expand holds the
 * release; a failed contract is recorded, and leaves the release done on the expanded schema.
 */
import type { MigrationEvent, MigrationPhase } from '../core/migrations/events.ts';
import type { RevisionRef } from '../core/release/state.ts';
import { openMigrationDatabase } from '../drivers/migrations/open-database.ts';
import { rehearse } from '../drivers/migrations/rehearse.ts';
import { runStep } from '../drivers/migrations/run-step.ts';
import type { ServiceSpec } from '../spec/index.ts';

/** The rehearsal of `spec`'s migrations, as its event (ok: false when refused or the database cannot be reached). */
export async function rehearseMigrations(
  spec: ServiceSpec,
  baseDir: string,
  revision: RevisionRef,
): Promise<Extract<MigrationEvent, { type: 'migration.rehearsed' }>> {
  const m = spec.spec.migrations!;
  const event = (
    ok: boolean,
    detail: string,
    durationMs: number,
    steps: Extract<MigrationEvent, { type: 'migration.rehearsed' }>['steps'],
  ) => ({ type: 'migration.rehearsed' as const, revision, ok, detail, durationMs, steps });
  let db;
  try {
    db = openMigrationDatabase(m.database, baseDir);
  } catch (err) {
    return event(false, (err as Error).message, 0, []);
  }
  const r = await rehearse(m, db, baseDir);
  return event(
    r.ok,
    r.problem ?? `${r.steps.length} steps passed on a copy of the ${db.driver} database`,
    r.durationMs,
    r.steps,
  );
}

/** Run `phase`'s up on the real database, as its event. */
export async function runMigration(
  spec: ServiceSpec,
  baseDir: string,
  revision: RevisionRef,
  phase: MigrationPhase,
): Promise<Extract<MigrationEvent, { type: 'migration.ran' }>> {
  const m = spec.spec.migrations!;
  const step = m[phase]!;
  let db;
  try {
    db = openMigrationDatabase(m.database, baseDir);
  } catch (err) {
    return {
      type: 'migration.ran',
      revision,
      phase,
      direction: 'up',
      database: m.database.driver,
      ok: false,
      durationMs: 0,
      output: '',
      error: (err as Error).message,
    };
  }
  const r = await runStep(step.up, db, baseDir);
  return {
    type: 'migration.ran',
    revision,
    phase,
    direction: 'up',
    database: db.driver,
    ok: r.ok,
    durationMs: r.durationMs,
    output: r.output,
    error: r.error,
  };
}
