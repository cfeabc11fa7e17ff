/** The target contract: start, adopt and stop a revision's instances (docs/targets.md). */
import type { z } from 'zod';
import type { InstanceFault } from '../../core/drills/events.ts';
import type { Instance } from '../../core/types.ts';
import type { DriverContext } from '../types.ts';

export type { Instance, InstanceFault };

/** One revision as a target sees it: its `spec.target` config with `${version}` already interpolated. */
export interface TargetRevision<C = unknown> {
  /** Revision key, unique per service ("3"). Used as the route/metrics key too. */
  key: string;
  version: string;
  config: C;
  /** The spec file's folder: relative paths in the config (a command, a cwd) resolve against it. */
  baseDir: string;
}

/** Something a target noticed on its own: an instance crashed (and whether it was restarted). */
export interface TargetSignal {
  kind: 'crashed';
  key: string;
  instanceId: string;
  exitCode: number | null;
  signal: string | null;
  restarted: boolean;
  at: number;
}

export interface Target<C = unknown> {
  /** Start the revision's instances; resolves once every instance passes readiness. Rejects on timeout. */
  start(rev: TargetRevision<C>, signal: AbortSignal): Promise<Instance[]>;
  /** After a controller restart: re-attach to instances recorded earlier. Returns the ones still alive. */
  adopt(rev: TargetRevision<C>, instances: Instance[]): Promise<Instance[]>;
  /** Stop the instances (SIGTERM after draining, then SIGKILL after a grace period). */
  stop(rev: TargetRevision<C>, instances: Instance[]): Promise<void>;
  /**
   * Drills (docs/drills.md): do `fault` to one running instance. kill: SIGKILL (the target's own
   * crash handling follows); stop / resume: SIGSTOP / SIGCONT, and a stop with `ttlMs` is resumed
   * then by the data plane itself, with or without a controller; restart: stop it and start it again
   * where it ran. Absent: the target runs no process of Sluice's, and a drill refuses instance faults.
   */
  faultInstance?(
    rev: TargetRevision<C>,
    instance: Instance,
    fault: InstanceFault,
    o?: { ttlMs?: number },
  ): Promise<void>;
  /** Health signals, e.g. a crash (the driver restarts the instance itself when it can). */
  onSignal(listener: (signal: TargetSignal) => void): void;
  /** Detach: stop watching, leave the instances running. */
  close(): Promise<void>;
}

/** A target's config comes with each revision (it is part of the release template). */
export interface TargetFactory<C = any> {
  /** Validates `spec.target` (after interpolation), minus nothing: `driver` is part of it. */
  config: z.ZodType<C>;
  create(ctx: DriverContext): Target<C>;
}
