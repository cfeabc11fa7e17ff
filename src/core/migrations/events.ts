/**
 * The events of schema migrations released with a version (docs/trains.md), logged under the
 * service's name: each rehearsal on a throwaway copy, and each run on the real database.
 */
import type { RevisionRef } from '../release/state.ts';

export type MigrationPhase = 'expand' | 'contract';

export type MigrationEvent =
  /** up → down → up on a throwaway copy, before production; `ok: false` refused the release. */
  | {
      type: 'migration.rehearsed';
      revision: RevisionRef;
      ok: boolean;
      detail: string;
      durationMs: number;
      steps: { phase: MigrationPhase; direction: string; ok: boolean; durationMs: number }[];
    }
  /** One step on the real database, with how long it took and what it printed. */
  | {
      type: 'migration.ran';
      revision: RevisionRef;
      phase: MigrationPhase;
      direction: 'up' | 'down';
      database: string;
      ok: boolean;
      durationMs: number;
      output: string;
      error: string | null;
    };

export const MIGRATION_EVENT_TYPES = [
  'migration.rehearsed',
  'migration.ran',
] as const satisfies readonly MigrationEvent['type'][];

export function describeMigrationEvent(e: MigrationEvent): string {
  if (e.type === 'migration.rehearsed') {
    return e.ok
      ? `the migrations of ${e.revision.version} passed their rehearsal (up, down, up on a copy) in ${e.durationMs} ms`
      : `the migrations of ${e.revision.version} were refused: ${e.detail}`;
  }
  return `${e.phase}.${e.direction} of ${e.revision.version} on ${e.database} ${e.ok ? `ran in ${e.durationMs} ms` : `FAILED after ${e.durationMs} ms: ${e.error}`}`;
}
