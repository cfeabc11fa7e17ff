/**
 * The `command` target: deploy, undeploy and list instances through the team's own commands.
 * Sluice does not watch the instances (no crash signals); it trusts `instances` for what runs.
 */
import path from 'node:path';
import type { Instance } from '../../../core/types.ts';
import { childEnv } from '../../secrets.ts';
import type { DriverContext } from '../../types.ts';
import type { Target, TargetRevision } from '../types.ts';
import { ReadinessTimeout, waitUntilReady } from '../readiness.ts';
import type { CommandTargetConfig } from './config.ts';
import { parseInstances } from './instances-output.ts';
import { runCommand } from './run-command.ts';

type Revision = TargetRevision<CommandTargetConfig>;
type CommandName = 'deploy' | 'undeploy' | 'instances';

export class CommandTarget implements Target<CommandTargetConfig> {
  readonly #ctx: DriverContext;

  constructor(ctx: DriverContext) {
    this.#ctx = ctx;
  }

  async start(rev: Revision, signal: AbortSignal): Promise<Instance[]> {
    await this.#run(rev, 'deploy', signal);
    try {
      const instances = await this.#list(rev, signal);
      if (instances.length === 0)
        throw new Error(`the instances command listed no instance after deploy, so nothing can become ready`);
      if (rev.config.readiness) await this.#waitReady(rev, instances, signal);
      return instances;
    } catch (err) {
      // A revision that cannot serve is taken down again rather than left half-deployed.
      await this.#run(rev, 'undeploy').catch((undeployErr: Error) => this.#ctx.log('error', undeployErr.message));
      throw new Error(this.#describe(rev, (err as Error).message), { cause: err });
    }
  }

  async adopt(rev: Revision, instances: Instance[]): Promise<Instance[]> {
    const listed = new Map((await this.#list(rev)).map((i) => [i.id, i.url]));
    return instances.filter((i) => listed.get(i.id) === i.url);
  }

  async stop(rev: Revision, instances: Instance[]): Promise<void> {
    await this.#run(rev, 'undeploy', undefined, instances);
  }

  onSignal(): void {
    // Instances run wherever the commands put them; Sluice does not watch them.
  }

  async close(): Promise<void> {}

  async #list(rev: Revision, signal?: AbortSignal): Promise<Instance[]> {
    const stdout = await this.#run(rev, 'instances', signal);
    try {
      return parseInstances(stdout, rev.key);
    } catch (err) {
      throw new Error(this.#describe(rev, `the instances command's output: ${(err as Error).message}`), { cause: err });
    }
  }

  async #run(rev: Revision, name: CommandName, signal?: AbortSignal, instances?: Instance[]): Promise<string> {
    const [program = '', ...args] = rev.config[name];
    // `node` is the Node that runs Sluice; a relative program path is relative to the spec's folder.
    const resolved =
      program === 'node' ? process.execPath : program.includes('/') ? path.resolve(rev.baseDir, program) : program;
    const env = childEnv({
      ...rev.config.env,
      SLUICE_SERVICE: this.#ctx.service,
      SLUICE_VERSION: rev.version,
      SLUICE_REVISION: rev.key,
    });
    if (instances) env.SLUICE_INSTANCES = instances.map((i) => i.detail?.id ?? i.id).join(',');
    const log: DriverContext['log'] = (level, message, detail) =>
      this.#ctx.log(level, message, { ...detail, revision: rev.key, version: rev.version });
    try {
      return await runCommand({
        name,
        argv: [resolved, ...args],
        cwd: path.resolve(rev.baseDir, rev.config.cwd ?? '.'),
        env,
        timeoutMs: rev.config.timeout,
        signal,
        log,
        stdoutIsData: name === 'instances',
      });
    } catch (err) {
      throw new Error(this.#describe(rev, (err as Error).message), { cause: err });
    }
  }

  async #waitReady(rev: Revision, instances: Instance[], signal: AbortSignal): Promise<void> {
    const readiness = rev.config.readiness!;
    const failed = new AbortController();
    const onAbort = () => failed.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let first: Error | undefined;
    await Promise.all(
      instances.map((instance) =>
        waitUntilReady(instance.url, readiness, failed.signal).catch((err: unknown) => {
          const what =
            err instanceof ReadinessTimeout
              ? `was not ready in time: ${err.message}`
              : `was not ready: ${(err as Error)?.message ?? String(err)}`;
          first ??= new Error(`instance ${instance.id} (${instance.url}) ${what}`);
          failed.abort(first);
        }),
      ),
    ).finally(() => signal.removeEventListener('abort', onAbort));
    if (first) throw first;
  }

  #describe(rev: Revision, what: string): string {
    const prefix = `command target: service "${this.#ctx.service}" revision ${rev.key} (version ${rev.version})`;
    return what.startsWith(prefix) ? what : `${prefix}: ${what}`;
  }
}
