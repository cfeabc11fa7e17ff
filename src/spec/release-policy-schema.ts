import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { duration } from '../core/units.ts';
import { compileRule, isTimeZone } from '../core/windows/occurrences.ts';
import type { Freeze, ReleasePolicy, ReleaseWindow } from '../core/windows/types.ts';
export type { ReleasePolicy };

const serviceName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'a service name is lowercase letters, digits and dashes');
const instant = z
  .string()
  .refine(
    (s) => /^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/.test(s) && Number.isFinite(Date.parse(s)),
    'an instant with its offset, e.g. 2026-11-26T00:00:00Z or 2026-11-26T00:00:00+01:00',
  );

/** One window as written in a ReleasePolicy (see docs/windows.md). */
export const windowSchema = z
  .strictObject({
    name: z.string().min(1),
    kind: z.enum(['allow', 'deny'], { error: () => 'kind is allow or deny' }),
    rrule: z.string().min(1, 'rrule is an RFC 5545 rule such as FREQ=WEEKLY;BYDAY=MO,TU,WE,TH'),
    start: z
      .string()
      .regex(
        /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/,
        'start is a local date-time without offset, e.g. 2026-01-05T09:00',
      ),
    duration: duration.refine((ms) => ms > 0, 'duration must be above 0'),
    timeZone: z
      .string()
      .refine(isTimeZone, 'timeZone is an IANA time zone such as Europe/Berlin, America/New_York or UTC'),
    services: z.array(serviceName).min(1).optional(),
  })
  .superRefine((w, ctx) => {
    try {
      compileRule(w);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['rrule'], message: (err as Error).message });
    }
  })
  .transform(({ duration: durationMs, ...w }): ReleaseWindow => ({ ...w, durationMs }));

export const freezeSchema = z
  .strictObject({
    name: z.string().min(1),
    from: instant,
    until: instant,
    reason: z.string().min(1, 'say why: the reason is shown to whoever waits'),
    services: z.array(serviceName).min(1).optional(),
  })
  .refine((f) => Date.parse(f.until) > Date.parse(f.from), { message: 'until must be after from', path: ['until'] })
  .transform((f): Freeze => ({ ...f, from: Date.parse(f.from), until: Date.parse(f.until) }));

/** `kind: ReleasePolicy`: the server-wide windows and freezes (the schema fragment for the spec). */
export const releasePolicySchema = z.strictObject({
  apiVersion: z.literal('sluice.dev/v1alpha1'),
  kind: z.literal('ReleasePolicy'),
  metadata: z.strictObject({ name: z.string().min(1) }),
  spec: z.strictObject({
    windows: z.array(windowSchema).default([]),
    freezes: z.array(freezeSchema).default([]),
  }),
});

/** An invalid policy: the message names the file and every bad field (named like the spec's errors). */
function policyError(message: string): Error {
  const e = new Error(message);
  e.name = 'SpecError';
  return e;
}

/** Parses a ReleasePolicy YAML document; errors name the file and every bad field. */
export function parsePolicy(text: string, file: string): ReleasePolicy {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw policyError(`${file}: not YAML: ${(err as Error).message}`);
  }
  const r = releasePolicySchema.safeParse(doc);
  if (!r.success)
    throw policyError(
      r.error.issues.map((i) => `${file}: ${i.path.join('.') || '(document)'}: ${i.message}`).join('\n'),
    );
  return { name: r.data.metadata.name, windows: r.data.spec.windows, freezes: r.data.spec.freezes };
}
