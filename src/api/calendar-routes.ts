import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { calendar } from '../core/windows/calendar.ts';
import { POLICY_FILE, readPolicy } from '../engine/index.ts';

export { POLICY_FILE, readPolicy };

export const calendarQuery = z.object({
  days: z.coerce.number().int().min(1, 'days is 1 to 366').max(366, 'days is 1 to 366').default(14),
  service: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}$/, 'a service name is lowercase letters, digits and dashes')
    .optional(),
});

/** GET /api/calendar?days=14&service=NAME (viewer). */
export function registerCalendarRoutes(app: FastifyInstance, dataDir: string, now: () => number = Date.now): void {
  app.get('/api/calendar', async (req) => calendar(await readPolicy(dataDir), calendarQuery.parse(req.query), now()));
}
