import type { TrainState } from '../core/trains/index.ts';

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

/** The API's view of a release train (docs/trains.md): times as ISO strings. */
export function trainView(t: TrainState) {
  return {
    name: t.spec.name,
    run: t.run,
    status: t.status,
    detail: t.detail,
    startedAt: iso(t.startedAt),
    endedAt: iso(t.endedAt),
    maxParallel: t.spec.maxParallel,
    onFailure: t.spec.onFailure,
    schedule: t.spec.schedule ?? null,
    nextRunAt: iso(t.nextRunAt),
    services: t.services.map((s) => ({ ...s, startedAt: iso(s.startedAt), endedAt: iso(s.endedAt) })),
    requestedBy: t.requestedBy || null,
    /** spec.approvals and the approvals this run got. */
    approval:
      t.spec.approvals === undefined
        ? null
        : {
            ...t.spec.approvals,
            given: t.approvals.map((a) => ({ ...a, at: new Date(a.at).toISOString() })),
          },
    /** spec.window, and the services it holds now (why, until when). */
    window:
      t.spec.window === undefined
        ? null
        : {
            policy: t.spec.window.policy,
            waiting: t.window === null ? null : { ...t.window, until: iso(t.window.until) },
          },
  };
}

/** What `GET /api/trains/:name` answers: the train and, for one train, its run's timeline. */
export type TrainView = ReturnType<typeof trainView> & {
  timeline?: { at: string; type: string; actor: string; text: string }[];
  upcoming?: string[];
};
