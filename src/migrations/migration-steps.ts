/**
 * Where the engine asks about migrations: before a release is applied (rehearse), right before a
 * canary starts (expand), when a release's old version has stopped (contract), and before a
 * person's undo (never past a contract). Events go to the service's own log through `record`.
 */
import type { EventBody, ServiceEvent } from '../core/events.ts';
import type { MigrationEvent } from '../core/migrations/events.ts';
import { schemaUndoRefusal } from '../core/migrations/undo.ts';
import type { ServiceState } from '../core/release/state.ts';
import type { ServiceSpec } from '../spec/index.ts';
import type { Store, StoredRevision } from '../store/types.ts';
import { rehearseMigrations, runMigration } from './release-migrations.ts';

export interface MigrationStepsDeps {
  store: Store;
  record: (service: string, events: EventBody[], actor: string) => Promise<void>;
  log: { warn: (o: object, msg: string) => void };
}

const migrationEvents = (events: readonly ServiceEvent[]) =>
  events.filter((e): e is ServiceEvent & MigrationEvent => e.type.startsWith('migration.'));

export class MigrationSteps {
  readonly #d: MigrationStepsDeps;
  /** Contracts in flight, by revision (service/key), so a repeated event runs one. */
  readonly #contracting = new Set<string>();

  constructor(d: MigrationStepsDeps) {
    this.#d = d;
  }

  /** Null when `rev` may be released; else why its migrations were refused (the rehearsal is recorded either way). */
  async rehearse(rev: StoredRevision, actor: string): Promise<string | null> {
    const spec = rev.spec as ServiceSpec;
    if (spec.spec.migrations === undefined) return null;
    const event = await rehearseMigrations(spec, rev.baseDir, { key: rev.key, version: rev.version });
    await this.#d.record(rev.service, [event], actor);
    return event.ok ? null : event.detail;
  }

  /** Run the expand of `rev` (once) before its canary gets traffic; null when done, else why the release is held. */
  async expand(rev: StoredRevision, actor: string): Promise<string | null> {
    const spec = rev.spec as ServiceSpec;
    if (spec.spec.migrations?.expand === undefined) return null;
    const past = migrationEvents(await this.#d.store.events({ service: rev.service, limit: 100_000 }));
    if (past.some((e) => e.type === 'migration.ran' && e.phase === 'expand' && e.ok && e.revision.key === rev.key))
      return null;
    const event = await runMigration(spec, rev.baseDir, { key: rev.key, version: rev.version }, 'expand');
    await this.#d.record(rev.service, [event], actor);
    return event.ok
      ? null
      : `the expand migration failed on the ${event.database} database (${event.error}); the release is held before its canary got any traffic: fix the database, then apply the spec again`;
  }

  /**
   * A release's old version stopped: once the release succeeded (its Verify window passed), run
   * the contract of the version it released, once.
   */
  async afterStop(state: ServiceState, stoppedKey: string): Promise<void> {
    const r = state.release;
    if (r === null || r.status !== 'Succeeded' || r.from?.key !== stoppedKey || r.kind !== 'canary') return;
    const id = `${state.service}/${r.to.key}`;
    if (this.#contracting.has(id)) return;
    this.#contracting.add(id);
    try {
      const rev = await this.#d.store.revision(state.service, r.to.key);
      const spec = rev?.spec as ServiceSpec | undefined;
      if (rev === null || spec?.spec.migrations?.contract === undefined) return;
      const past = migrationEvents(await this.#d.store.events({ service: state.service, limit: 100_000 }));
      if (past.some((e) => e.type === 'migration.ran' && e.phase === 'contract' && e.revision.key === rev.key)) return;
      const event = await runMigration(spec, rev.baseDir, { key: rev.key, version: rev.version }, 'contract');
      await this.#d.record(state.service, [event], 'sluice-controller');
    } catch (err) {
      this.#d.log.warn({ service: state.service, err }, 'the contract migration could not run');
    } finally {
      this.#contracting.delete(id);
    }
  }

  /** Why a person may not go back from the stable revision to `target` (null: the schema allows it). */
  async undoRefusal(service: string, stable: { key: string; version: string }, target: string): Promise<string | null> {
    const rev = await this.#d.store.revision(service, stable.key);
    const spec = rev?.spec as ServiceSpec | undefined;
    if (spec?.spec.migrations === undefined) return null;
    const events = migrationEvents(await this.#d.store.events({ service, limit: 100_000 }));
    return schemaUndoRefusal({
      service,
      stable,
      target,
      events,
      compatibleWith: spec.spec.migrations.schema?.compatibleWith ?? null,
    });
  }
}
