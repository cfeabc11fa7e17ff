import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ReleasePolicy } from '../spec/index.ts';
import type { WindowSpan } from '../core/windows/types.ts';
import { localTime, spans, windowState } from '../core/windows/window-state.ts';
import { POLICY_FILE, readPolicy } from '../engine/release-policy.ts';

export { POLICY_FILE, readPolicy };

export const calendarQuery = z.object({
  days: z.coerce.number().int().min(1, 'days is 1 to 366').max(366, 'days is 1 to 366').default(14),
  service: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a service name is lowercase letters, digits and dashes').optional(),
});

const view = (s: WindowSpan) => ({
  ...s, start: new Date(s.start).toISOString(), end: new Date(s.end).toISOString(),
  localStart: localTime(s.start, s.timeZone), localEnd: localTime(s.end, s.timeZone),
});

/** A policy's upcoming windows and freezes, and (for one service) whether it may release now. */
export function calendar(policy: ReleasePolicy | null, q: { days: number; service?: string | undefined }, now: number) {
  const windows = policy?.windows ?? [];
  const freezes = policy?.freezes ?? [];
  const to = now + q.days * 86_400_000;
  const state = q.service === undefined ? null : windowState(windows, freezes, q.service, now);
  return {
    policy: policy?.name ?? null,
    from: new Date(now).toISOString(),
    to: new Date(to).toISOString(),
    ...(state && { service: q.service, state: { ...state, until: state.until === null ? null : new Date(state.until).toISOString() } }),
    spans: spans(windows, freezes, q.service ?? null, now, to).map(view),
  };
}

/** GET /api/calendar?days=14&service=NAME (viewer). */
export function registerCalendarRoutes(app: FastifyInstance, dataDir: string, now: () => number = Date.now): void {
  app.get('/api/calendar', async (req) => calendar(await readPolicy(dataDir), calendarQuery.parse(req.query), now()));
}
