import type { ReleasePolicy, WindowSpan } from './types.ts';
import { localTime, spans, windowState } from './window-state.ts';

/** One window occurrence or freeze, with ISO times and the window's local times. */
export type CalendarSpan = Omit<WindowSpan, 'start' | 'end'> & {
  start: string;
  end: string;
  localStart: string;
  localEnd: string;
};

/** What `GET /api/calendar` answers and `sluice calendar` prints. */
export interface Calendar {
  policy: string | null;
  from: string;
  to: string;
  /** For one service: whether it may release now, why, and until when. */
  service?: string;
  state?: { open: boolean; reason: string; until: string | null };
  spans: CalendarSpan[];
}

const view = (s: WindowSpan): CalendarSpan => ({
  ...s,
  start: new Date(s.start).toISOString(),
  end: new Date(s.end).toISOString(),
  localStart: localTime(s.start, s.timeZone),
  localEnd: localTime(s.end, s.timeZone),
});

/** A policy's upcoming windows and freezes over `days`, and (for one service) whether it may release now. */
export function calendar(
  policy: ReleasePolicy | null,
  q: { days: number; service?: string | undefined },
  now: number,
): Calendar {
  const windows = policy?.windows ?? [];
  const freezes = policy?.freezes ?? [];
  const to = now + q.days * 86_400_000;
  const state = q.service === undefined ? null : windowState(windows, freezes, q.service, now);
  return {
    policy: policy?.name ?? null,
    from: new Date(now).toISOString(),
    to: new Date(to).toISOString(),
    ...(state &&
      q.service !== undefined && {
        service: q.service,
        state: { ...state, until: state.until === null ? null : new Date(state.until).toISOString() },
      }),
    spans: spans(windows, freezes, q.service ?? null, now, to).map(view),
  };
}
