/**
 * Starting one instance of a revision on a given port and waiting until it passes readiness,
 * with errors that say which service, revision and instance failed, how, and what it logged.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Instance } from '../../../core/types.ts';
import { childEnv, scrubSecrets } from '../../secrets.ts';
import type { DriverContext } from '../../types.ts';
import type { TargetRevision } from '../types.ts';
import { ReadinessTimeout, waitUntilReady } from '../readiness.ts';
import type { ProcessTargetConfig } from './config.ts';
import { logPath, tailLog, writeState } from './instance-files.ts';
import { spawnInstance, type ExitStatus, type SpawnedInstance } from './spawn-instance.ts';

export interface InstancePlan {
  ctx: DriverContext;
  rev: TargetRevision<ProcessTargetConfig>;
  instanceId: string;
  port: number;
}

export function instanceUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

export function describeInstance(plan: InstancePlan): string {
  return `process target: service "${plan.ctx.service}" revision ${plan.rev.key} (version ${plan.rev.version}), instance ${plan.instanceId}`;
}

/** The working directory: `cwd` (default: the spec's folder) resolved against the spec's folder. */
export function workingDir(rev: TargetRevision<ProcessTargetConfig>): string {
  return path.resolve(rev.baseDir, rev.config.cwd ?? '.');
}

/** argv with a relative program path ("./bin/server") resolved against the spec's folder; bare names use PATH. */
export function argv(rev: TargetRevision<ProcessTargetConfig>): string[] {
  const [program = '', ...args] = rev.config.command;
  const resolved = program.includes('/') ? path.resolve(rev.baseDir, program) : program;
  return [resolved, ...args];
}

/** Spawns one run of the instance and records its pid in the state file. */
export function spawnFor(plan: InstancePlan): SpawnedInstance {
  const { ctx, rev, instanceId, port } = plan;
  const spawned = spawnInstance({
    command: argv(rev),
    cwd: workingDir(rev),
    env: childEnv({
      ...rev.config.env,
      PORT: String(port),
      SLUICE_SERVICE: ctx.service,
      SLUICE_VERSION: rev.version,
      SLUICE_REVISION: rev.key,
      SLUICE_INSTANCE: instanceId,
    }),
    logFile: logPath(ctx.serviceDir, rev.key, instanceId),
  });
  if (spawned.pid !== undefined) {
    writeState(ctx.serviceDir, rev.key, instanceId, {
      pid: spawned.pid,
      pgid: spawned.pid,
      port,
      startedAt: Date.now(),
    });
  }
  return spawned;
}

/**
 * Spawns the instance and resolves once it passes readiness. `track` receives the run as soon as
 * it exists, so the caller can stop it whatever happens next. Rejects with a readable Error when
 * the instance cannot start, exits first, misses the readiness timeout, or `signal` aborts.
 */
export async function launchUntilReady(
  plan: InstancePlan,
  signal: AbortSignal,
  track: (spawned: SpawnedInstance) => void,
): Promise<{ instance: Instance; spawned: SpawnedInstance }> {
  if (signal.aborted) throw new Error(`${describeInstance(plan)} was not started: ${abortReason(signal)}`);
  let spawned: SpawnedInstance;
  try {
    spawned = spawnFor(plan);
  } catch (err) {
    // The log or state file could not be written (permissions, disk full).
    throw new Error(`${describeInstance(plan)} could not start: ${(err as Error).message}`, { cause: err });
  }
  track(spawned);
  const url = instanceUrl(plan.port);
  let exit: ExitStatus | null = null;
  const exited = new AbortController();
  void spawned.exited.then((status) => {
    exit = status;
    exited.abort(new Error('instance exited'));
  });
  try {
    await waitUntilReady(url, plan.rev.config.readiness, AbortSignal.any([signal, exited.signal]));
  } catch (err) {
    // Let a just-finished exit win over the probe that noticed it.
    await Promise.race([spawned.exited, new Promise((r) => setImmediate(r))]);
    throw new Error(failureMessage(plan, spawned, exit, err, signal), { cause: err });
  }
  const pid = spawned.pid as number;
  return { instance: { id: plan.instanceId, url, detail: { pid, port: plan.port, pgid: pid } }, spawned };
}

function failureMessage(
  plan: InstancePlan,
  spawned: SpawnedInstance,
  exit: ExitStatus | null,
  err: unknown,
  signal: AbortSignal,
): string {
  const { ctx, rev, instanceId } = plan;
  const cwd = workingDir(rev);
  const program = JSON.stringify(argv(rev)[0]);
  let what: string;
  if (exit?.error) {
    const code = exit.error.code;
    if (!existsSync(cwd)) what = `could not start: working directory "${cwd}" does not exist (check spec.target.cwd)`;
    else if (code === 'ENOENT')
      what = `could not start: command ${program} was not found (spawn ENOENT; check spec.target.command, run from "${cwd}")`;
    else if (code === 'EACCES')
      what = `could not start: command ${program} is not executable (spawn EACCES; check spec.target.command)`;
    else what = `could not start: ${exit.error.message}`;
  } else if (exit) {
    what = exit.signal
      ? `was killed by ${exit.signal} before it was ready`
      : `exited with code ${exit.code} before it was ready`;
  } else if (err instanceof ReadinessTimeout) {
    what = `was not ready in time: ${err.message}`;
  } else if (signal.aborted) {
    what = `was stopped before it was ready: ${abortReason(signal)}`;
  } else {
    what = `failed: ${(err as Error)?.message ?? String(err)}`;
  }
  const log = logPath(ctx.serviceDir, rev.key, instanceId);
  const tail = scrubSecrets(tailLog(log, spawned.logOffset));
  const quoted =
    tail === ''
      ? '  (nothing logged)'
      : tail
          .split('\n')
          .map((line) => `  | ${line}`)
          .join('\n');
  return `${describeInstance(plan)} ${what}.\nLast lines of ${log}:\n${quoted}`;
}

function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return `start aborted (${reason instanceof Error ? reason.message : String(reason)})`;
}
