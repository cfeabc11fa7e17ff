/**
 * The apply flow of one Service spec: the same template again only updates the configuration (or
 * aborts a release when the stable spec comes back); a new template becomes a revision — its
 * migrations rehearsed first when a stable version runs — and a release that starts or waits.
 */
import { isActive } from '../core/release/state.ts';
import { templateHash, type ServiceSpec } from '../spec/index.ts';
import type { UnmetDependency } from '../core/graph/index.ts';
import type { MigrationSteps } from '../migrations/migration-steps.ts';
import type { Store, StoredRevision, StoredService } from '../store/types.ts';
import { SluiceError } from '../errors.ts';
import type { ApplyResult } from '../views/apply-result.ts';
import { EXPAND_HELD, type ReleaseStarts } from './release-starts.ts';
import type { ServiceController } from './service-controller.ts';

export interface ApplyOptions {
  file: string;
  /** Folder relative paths in the spec resolve against: the spec file's folder. */
  baseDir: string;
  actor: string;
  /** `skip`: the caller already checked the release window (an environment's promotion gates). */
  windows?: 'check' | 'skip';
}

/** What the apply flow needs of the engine. */
export interface ApplyContext {
  store: Store;
  migrations: MigrationSteps;
  starts: ReleaseStarts;
  /** The controller of a service this replica may act for (creating: its lease is taken); throws when another runs it. */
  owned: (name: string, create: boolean) => Promise<ServiceController | undefined>;
  /** A controller for a service new to this engine. */
  open: (record: StoredService) => Promise<ServiceController>;
  adopt: (name: string, c: ServiceController) => void;
  notifyFor: (name: string, spec: ServiceSpec) => void;
  unmetDependencies: (spec: ServiceSpec, name: string) => Promise<UnmetDependency[]>;
}

export async function applyOne(e: ApplyContext, spec: ServiceSpec, o: ApplyOptions): Promise<ApplyResult> {
  const name = spec.metadata.name;
  const hash = templateHash(spec);
  const existing = await e.store.service(name);
  const revisions = await e.store.revisions(name);
  const controller = await e.owned(name, true);
  const current = revisions.find((r) => r.key === existing?.revisionKey);
  const stable = revisions.find((r) => r.key === controller?.state.stable?.key);
  const record = (revisionKey: string): StoredService => ({
    name,
    spec,
    baseDir: o.baseDir,
    file: o.file,
    revisionKey,
    updatedAt: Date.now(),
  });

  if (
    existing !== null &&
    controller !== undefined &&
    (current?.templateHash === hash || stable?.templateHash === hash)
  ) {
    const same = (current?.templateHash === hash ? current : stable)!;
    const changed = JSON.stringify(existing.spec) !== JSON.stringify(spec) || existing.revisionKey !== same.key;
    await e.store.putService(record(same.key));
    controller.reconfigure(record(same.key));
    e.notifyFor(name, spec);
    await controller.record([{ type: 'spec.applied', revision: null, templateChanged: false, file: o.file }], o.actor);
    let message = changed ? 'configuration updated; no release needed' : 'unchanged';
    const held = controller.state.waiting;
    if (held?.reason.startsWith(EXPAND_HELD) === true && held.revision.key === same.key) {
      await controller.record(
        [
          {
            type: 'release.waitEnded',
            revision: held.revision,
            outcome: 'started',
            detail: `${o.actor} applied it again`,
          },
        ],
        o.actor,
      );
      const again = await e.starts.startOrWait(
        controller,
        same,
        o.actor,
        o.windows ?? 'check',
        await e.unmetDependencies(spec, name),
      );
      return {
        service: name,
        action: again === null ? 'released' : 'waiting',
        revision: same.key,
        version: same.version,
        message: again ?? `release of ${same.version} (revision ${same.key}) started: its expand migration ran`,
      };
    }
    if (same === stable && isActive(controller.state.release)) {
      await controller.input(
        {
          type: 'command',
          command: { kind: 'abort', reason: `the stable spec (revision ${same.key}) was applied again` },
        },
        o.actor,
      );
      message = `matches the stable revision ${same.key}: the release in progress was aborted`;
    }
    return {
      service: name,
      action: changed ? 'configured' : 'unchanged',
      revision: same.key,
      version: same.version,
      message,
    };
  }

  const number = revisions.reduce((n, r) => Math.max(n, r.number), 0) + 1;
  const revision: StoredRevision = {
    service: name,
    key: String(number),
    number,
    version: spec.spec.version,
    spec,
    templateHash: hash,
    baseDir: o.baseDir,
    file: o.file,
    createdAt: Date.now(),
    createdBy: o.actor,
  };
  // Before production: the migrations are rehearsed on a copy; refused, nothing else changes.
  if (controller?.state.stable != null) {
    const refused = await e.migrations.rehearse(revision, o.actor);
    if (refused !== null)
      throw new SluiceError(
        'CONFLICT',
        `${o.file}: the migrations of ${name} ${revision.version} were refused before production: ${refused}. Nothing was released`,
      );
  }
  await e.store.putRevision(revision);
  await e.store.putService(record(revision.key));
  let c = controller;
  if (c === undefined) {
    c = await e.open(record(revision.key));
    e.adopt(name, c);
  } else {
    c.reconfigure(record(revision.key));
  }
  e.notifyFor(name, spec);
  const ref = { key: revision.key, version: revision.version };
  await c.record([{ type: 'spec.applied', revision: ref, templateChanged: true, file: o.file }], o.actor);
  const first = c.state.stable === null;
  const unmet = await e.unmetDependencies(spec, name);
  const waiting = await e.starts.startOrWait(c, revision, o.actor, first ? 'skip' : (o.windows ?? 'check'), unmet);
  if (waiting !== null) {
    const heldBy = unmet.map((u) => ({ service: u.service, range: u.range, running: u.running }));
    return {
      service: name,
      action: 'waiting',
      revision: revision.key,
      version: revision.version,
      message: `release of ${revision.version} (revision ${revision.key}) waits: ${waiting}`,
      ...(heldBy.length > 0 && { heldBy }),
    };
  }
  return {
    service: name,
    action: first ? 'created' : 'released',
    revision: revision.key,
    version: revision.version,
    message: first
      ? `deploying ${revision.version} (revision ${revision.key})`
      : `release of ${revision.version} (revision ${revision.key}) started`,
  };
}
