/**
 * How a release starts: at once, or recorded as waiting — for its dependencies to run versions in
 * range, for its release window, or held by a failed expand migration — and started by the check
 * every second once nothing holds it. The engine owns the controllers; this owns the starting.
 */
import type { Logger } from 'pino';
import { CONTROLLER } from '../core/events.ts';
import type { UnmetDependency } from '../core/graph/index.ts';
import type { MigrationSteps } from '../migrations/migration-steps.ts';
import type { ServiceSpec } from '../spec/index.ts';
import type { Store, StoredRevision } from '../store/types.ts';
import { SluiceError } from '../errors.ts';
import { releaseWindow } from './release-policy.ts';
import type { ServiceController } from './service-controller.ts';

/** How a release held by its dependencies says so (release.waiting's reason starts with it). */
const DEPENDENCIES = 'waits for its dependencies';

/** How a release held by its failed expand migration says so (migration-steps.ts words it). */
export const EXPAND_HELD = 'the expand migration failed';

function dependencyReason(unmet: readonly UnmetDependency[]): string {
  return `${DEPENDENCIES}: ${unmet.map((u) => u.message).join('; ')}`;
}

export interface ReleaseStartsDeps {
  store: Store;
  dataDir: string;
  now: () => number;
  log: Logger;
  migrations: MigrationSteps;
  /** The dependencies of a spec not running a version in range now. */
  unmetDependencies: (spec: ServiceSpec, name: string) => Promise<UnmetDependency[]>;
}

export class ReleaseStarts {
  readonly #d: ReleaseStartsDeps;
  #checking = false;

  constructor(d: ReleaseStartsDeps) {
    this.#d = d;
  }

  /**
   * Start the release, or record that it waits for its release window (a freeze, a deny window,
   * outside every allow window); a newer spec replaces a waiting one. Returns why it waits, or null.
   */
  async startOrWait(
    c: ServiceController,
    rev: StoredRevision,
    actor: string,
    windows: 'check' | 'skip',
    unmet: UnmetDependency[],
  ): Promise<string | null> {
    const pending = c.state.waiting;
    if (pending)
      await c.record(
        [
          {
            type: 'release.waitEnded',
            revision: pending.revision,
            outcome: 'superseded',
            detail: `revision ${rev.key} (${rev.version}) was applied`,
          },
        ],
        actor,
      );
    if (unmet.length > 0) {
      const reason = dependencyReason(unmet);
      await c.record(
        [{ type: 'release.waiting', revision: { key: rev.key, version: rev.version }, reason, until: null }],
        actor,
      );
      return reason;
    }
    if (windows === 'check') {
      const w = await releaseWindow(this.#d.dataDir, c.service, this.#d.now());
      if (!w.open) {
        await c.record(
          [
            {
              type: 'release.waiting',
              revision: { key: rev.key, version: rev.version },
              reason: w.reason,
              until: w.until,
            },
          ],
          actor,
        );
        return `${w.reason}${w.until === null ? '' : `; until ${new Date(w.until).toISOString()}`}`;
      }
    }
    return this.start(c, 'canary', rev, actor);
  }

  /** Releases waiting for their window (or dependencies) start once it opens, as the person who asked. */
  async startWaiting(controllers: Iterable<ServiceController>): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    try {
      for (const c of controllers) {
        const pending = c.state.waiting;
        if (!pending) continue;
        try {
          const rev = await this.#d.store.revision(c.service, pending.revision.key);
          if (rev === null) continue;
          const unmet = await this.#d.unmetDependencies(rev.spec as ServiceSpec, c.service);
          if (unmet.length > 0) continue;
          // Held by a failed expand: started again by applying the spec again, not every second.
          if (pending.reason.startsWith(EXPAND_HELD)) continue;
          // A release held by its dependencies still obeys its window once they run in range.
          const w = await releaseWindow(this.#d.dataDir, c.service, this.#d.now());
          if (!w.open) continue;
          const detail = pending.reason.startsWith(DEPENDENCIES)
            ? `its dependencies run versions in range (window: ${w.reason})`
            : `the release window opened: ${w.reason}`;
          await c.record(
            [{ type: 'release.waitEnded', revision: pending.revision, outcome: 'started', detail }],
            CONTROLLER,
          );
          await this.start(c, 'canary', rev, pending.by);
        } catch (err) {
          this.#d.log.warn({ service: c.service, err }, 'could not start a release waiting for its window');
        }
      }
    } finally {
      this.#checking = false;
    }
  }

  /** Start the release; null, or why it is held (its expand migration failed: recorded, nothing started). */
  async start(
    c: ServiceController,
    kind: 'canary' | 'undo',
    rev: StoredRevision,
    actor: string,
  ): Promise<string | null> {
    if (kind === 'canary' && c.state.stable !== null) {
      const held = await this.#d.migrations.expand(rev, actor);
      if (held !== null) {
        await c.record(
          [{ type: 'release.waiting', revision: { key: rev.key, version: rev.version }, reason: held, until: null }],
          actor,
        );
        return held;
      }
    }
    const spec = rev.spec as ServiceSpec;
    const d = await c.input(
      {
        type: 'startRelease',
        kind,
        to: { key: rev.key, version: rev.version },
        steps: spec.spec.strategy.canary.steps,
        contract: spec.spec.rollbackContract,
      },
      actor,
    );
    if (d.refused) throw new SluiceError('CONFLICT', d.refused.message);
    return null;
  }
}
