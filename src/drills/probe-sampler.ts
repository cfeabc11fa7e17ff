/**
 * The hypothesis's probes, each asked every `every` while a drill runs; answers are tallied per
 * phase (before, during, after the faults) and, for stop conditions, over the whole run.
 */
import type { DrillPhase, ProbeTally } from '../core/drills/events.ts';
import type { DrillProbe } from '../core/drills/gameday.ts';

const PROBE_TIMEOUT_MS = 2000;

interface Counts {
  good: number;
  total: number;
}

export class ProbeSampler {
  readonly #probes: DrillProbe[];
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #phases = new Map<DrillPhase, Map<string, Counts>>();
  readonly #overall = new Map<string, Counts>();
  readonly #onAnswer: (probe: string, overall: Counts) => void;
  #phase: DrillPhase = 'before';

  constructor(probes: DrillProbe[], onAnswer: (probe: string, overall: Counts) => void) {
    this.#probes = probes;
    this.#onAnswer = onAnswer;
  }

  start(): void {
    for (const p of this.#probes) {
      let busy = false;
      const ask = (): void => {
        if (busy) return;
        busy = true;
        const phase = this.#phase;
        void answer(p).then((good) => {
          busy = false;
          this.#count(phase, p.name, good);
        });
      };
      ask();
      this.#timers.push(setInterval(ask, p.everyMs));
    }
  }

  set phase(phase: DrillPhase) {
    this.#phase = phase;
  }

  #count(phase: DrillPhase, probe: string, good: boolean): void {
    let counts = this.#phases.get(phase);
    if (counts === undefined) this.#phases.set(phase, (counts = new Map()));
    for (const c of [counts, this.#overall]) {
      const n = c.get(probe) ?? { good: 0, total: 0 };
      c.set(probe, { good: n.good + (good ? 1 : 0), total: n.total + 1 });
    }
    this.#onAnswer(probe, this.#overall.get(probe)!);
  }

  tallies(phase: DrillPhase): ProbeTally[] {
    const counts = this.#phases.get(phase);
    return this.#probes.map((p) => ({
      probe: p.name,
      ...(counts?.get(p.name) ?? { good: 0, total: 0 }),
      tolerance: p.tolerance,
      weight: p.weight,
    }));
  }

  stop(): void {
    for (const t of this.#timers) clearInterval(t);
  }
}

/** One probe's answer: the expected status within 2 s (a slower answer is a bad one). */
async function answer(p: DrillProbe): Promise<boolean> {
  try {
    const res = await fetch(p.url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await res.arrayBuffer();
    return res.status === p.expectStatus;
  } catch {
    return false;
  }
}
