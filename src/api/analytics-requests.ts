import { z } from 'zod';
import { DOCUMENT_KINDS } from '../core/documents/types.ts';

/** The analytics and documents routes' queries and bodies (docs/analytics.md, docs/documents.md). */
const time = (field: string) =>
  z.string().transform((s, ctx) => {
    const ms = /^\d{4}-\d{2}-\d{2}(T.*)?$/.test(s) ? Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s) : NaN;
    if (Number.isNaN(ms))
      ctx.addIssue({
        code: 'custom',
        message: `${field} "${s}" is not a date (2026-06-01) or an ISO time (2026-06-01T00:00:00Z)`,
      });
    return ms;
  });

/** The window when none is given: the last 30 days. */
export const DEFAULT_DAYS = 30;

export const doraQuery = z.strictObject({
  /** Default: 30 days before `until`. */
  since: time('since').optional(),
  /** Default: now. */
  until: time('until').optional(),
  service: z.string().min(1).optional(),
  team: z.string().min(1).optional(),
  env: z.string().min(1).default('production'),
  bucket: z.enum(['day', 'week', 'month']).optional(),
  tiers: z.string().optional(),
});

export const importBody = z.strictObject({
  /** JSON lines (docs/analytics.md): deployments, commits, incidents, versions. */
  text: z.string(),
  /** The number of the text's first line in its file, so errors name the file's own lines (a client sends a big file in parts). */
  firstLine: z.int().positive().default(1),
  source: z.enum(['file', 'api', 'git']).default('api'),
});

export const documentParams = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a service name is lowercase letters, digits and dashes'),
  kind: z.enum(DOCUMENT_KINDS, { error: () => `unknown document; valid: ${DOCUMENT_KINDS.join(', ')}` }),
});
export const documentQuery = z.strictObject({ release: z.coerce.number().int().positive().optional() });
export const weeklyQuery = z.strictObject({ env: z.string().min(1).default('production') });
