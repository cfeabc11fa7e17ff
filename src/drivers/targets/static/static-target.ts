/**
 * The `static` target: the versions are deployed by something else. Starting a revision only
 * checks (when asked) that its URLs are ready; stopping it stops nothing, and it never signals.
 */
import type { Instance } from '../../../core/types.ts';
import type { DriverContext } from '../../types.ts';
import type { Target, TargetRevision } from '../types.ts';
import { ReadinessTimeout, waitUntilReady } from '../readiness.ts';
import type { StaticTargetConfig } from './config.ts';

type Revision = TargetRevision<StaticTargetConfig>;

export class StaticTarget implements Target<StaticTargetConfig> {
  readonly #ctx: DriverContext;

  constructor(ctx: DriverContext) {
    this.#ctx = ctx;
  }

  async start(rev: Revision, signal: AbortSignal): Promise<Instance[]> {
    const instances = rev.config.urls.map((url, i) => ({ id: `${rev.key}-${i + 1}`, url }));
    const readiness = rev.config.readiness;
    if (readiness) {
      // Fail fast: the first URL that cannot become ready stops the others' waiting.
      const failed = new AbortController();
      const onAbort = () => failed.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort();
      let firstError: Error | undefined;
      await Promise.all(
        instances.map((instance) =>
          waitUntilReady(instance.url, readiness, failed.signal).catch((err: unknown) => {
            firstError ??= new Error(this.#failure(rev, instance, err, signal), { cause: err });
            failed.abort(firstError);
          }),
        ),
      ).finally(() => signal.removeEventListener('abort', onAbort));
      if (firstError) throw firstError;
    }
    return instances;
  }

  async adopt(_rev: Revision, instances: Instance[]): Promise<Instance[]> {
    return instances;
  }

  async stop(): Promise<void> {
    // Nothing of ours runs: whoever deployed these versions stops them.
  }

  onSignal(): void {
    // A static target never watches its instances, so it has nothing to report.
  }

  async close(): Promise<void> {}

  #failure(rev: Revision, instance: Instance, err: unknown, signal: AbortSignal): string {
    const what =
      err instanceof ReadinessTimeout
        ? `was not ready in time: ${err.message}`
        : signal.aborted
          ? `was not ready when the start was aborted`
          : `failed readiness: ${(err as Error)?.message ?? String(err)}`;
    return `static target: service "${this.#ctx.service}" revision ${rev.key} (version ${rev.version}), instance ${instance.id} (${instance.url}) ${what}`;
  }
}
