import type { ProbeFailure } from '../core/events.ts';
import { tallyProbe, type ProbeRun } from '../core/release/probes.ts';
import { isActive, type ServiceState } from '../core/release/state.ts';
import type { ProbePlan } from '../core/release/strategy.ts';
import { messageOf } from './retry.ts';

export interface ProbeReport {
  key: string;
  instanceId: string;
  url: string;
  failures: number;
  evidence: ProbeFailure[];
}

interface Prober {
  timer: NodeJS.Timeout;
  run: ProbeRun;
  busy: boolean;
}

/**
 * Active HTTP probes of each instance of a release's new revision, while the release is under
 * way (steps, pause, Verify). Runs beside the loop; a failed run is reported once, with its
 * evidence, and the core decides what it means.
 */
export class ProbeRunner {
  readonly #report: (report: ProbeReport) => void;
  readonly #probers = new Map<string, Prober>();
  #plan: string | null = null;

  constructor(report: (report: ProbeReport) => void) {
    this.#report = report;
  }

  /** Probe exactly the instances the state says should be probed now. Cheap: call it every tick. */
  sync(state: ServiceState): void {
    const r = state.release;
    const probes = isActive(r) && r.status !== 'Starting' && r.from !== null ? r.plan.probes : null;
    const runtime = probes !== null && r ? state.runtimes[r.to.key] : undefined;
    const wanted = runtime?.status === 'ready' ? runtime.instances : [];
    const planKey = JSON.stringify(probes);
    if (planKey !== this.#plan) this.stop(); // a new plan restarts every prober
    this.#plan = planKey;
    const ids = new Set(wanted.map((i) => `${runtime!.key}/${i.id}/${i.url}`));
    for (const [id, p] of this.#probers) {
      if (!ids.has(id)) {
        clearInterval(p.timer);
        this.#probers.delete(id);
      }
    }
    if (probes === null || runtime === undefined) return;
    for (const instance of wanted) {
      const id = `${runtime.key}/${instance.id}/${instance.url}`;
      if (this.#probers.has(id)) continue;
      const prober: Prober = {
        run: [],
        busy: false,
        timer: setInterval(
          () => void this.#probe(prober, probes, runtime.key, instance.id, instance.url),
          probes.intervalMs,
        ),
      };
      this.#probers.set(id, prober);
    }
  }

  async #probe(p: Prober, plan: ProbePlan, key: string, instanceId: string, base: string): Promise<void> {
    if (p.busy) return; // a slow answer is not stacked on
    p.busy = true;
    const url = new URL(plan.path, base).toString();
    let result: ProbeFailure | 'ok';
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(plan.timeoutMs) });
      await res.body?.cancel();
      result = res.status < 400 ? 'ok' : { at: Date.now(), status: res.status, error: null };
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      result = {
        at: Date.now(),
        status: null,
        error: timedOut ? `no answer within ${plan.timeoutMs} ms` : (cause ?? messageOf(err)),
      };
    }
    p.busy = false;
    const { run, failed } = tallyProbe(p.run, result, plan.failureThreshold);
    p.run = failed ? [] : run;
    if (failed) this.#report({ key, instanceId, url, failures: run.length, evidence: run });
  }

  stop(): void {
    for (const p of this.#probers.values()) clearInterval(p.timer);
    this.#probers.clear();
  }
}
