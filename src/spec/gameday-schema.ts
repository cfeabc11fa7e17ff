/**
 * `kind: GameDay` (docs/drills.md): a drill against one service, read from YAML with
 * file:line:col errors into the core's GameDay (src/core/drills/gameday.ts).
 */
import { z } from 'zod';
import type { FaultEffect } from '../core/drills/fault.ts';
import { MAX_FAULT_LATENCY_MS } from '../core/drills/fault.ts';
import type { DrillFault, DrillStep, GameDay, InstanceDrillFault } from '../core/drills/gameday.ts';
import { compileRule } from '../core/windows/occurrences.ts';
import { duration } from '../core/units.ts';
import { composeDocuments, toSpecIssue } from './parse.ts';
import { specErrorMap } from './spec-error-map.ts';
import { SpecError } from './spec-error.ts';

/** "99%", "99.5%" or a number: a share in percent, more than 0 and at most 100. */
const percent = z
  .union([z.number(), z.string().regex(/^\d+(\.\d+)?%$/, 'write a share as 99% or 99.5%')])
  .transform((v) => (typeof v === 'number' ? v : Number(v.slice(0, -1))))
  .refine((p) => p > 0 && p <= 100, {
    error: (iss) => `a share is more than 0% and at most 100%, got ${String(iss.input)}%`,
  });

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a name is lowercase letters, digits and dashes (at most 63)');

const probeSchema = z.strictObject({
  name,
  http: z.strictObject({
    url: z.url({ protocol: /^https?$/, error: 'url is an http:// or https:// URL' }),
    expectStatus: z.number().int().min(100).max(599).default(200),
  }),
  every: duration.refine((ms) => ms >= 100 && ms <= 60_000, 'every is 100ms..60s').default(1000),
  tolerance: percent,
  weight: z.number().positive().default(1),
});

const cohortSchema = z
  .strictObject({ header: z.string().min(1).optional(), cookie: z.string().min(1).optional(), percent })
  .refine(
    (c) => (c.header === undefined) !== (c.cookie === undefined),
    'a cohort hashes users by one key: give header: NAME or cookie: NAME',
  );

/** kill / stop / restart N instances: how many, at least one. */
const instanceCount = z.number().int().min(1).max(64, 'at most 64 instances (a process target runs at most 64)');
const INSTANCE_WATCH_MS = 10_000;

const faultSchema = z
  .strictObject({
    target: z.enum(['canary', 'stable', 'metrics', 'instance'], {
      error: () => 'target is canary, stable, metrics or instance',
    }),
    errors: z
      .union([z.number().int().min(400).max(599), z.literal('reset')], {
        error: () => 'errors is an HTTP error status 400..599 or reset',
      })
      .optional(),
    latency: duration
      .refine((ms) => ms >= 1 && ms <= MAX_FAULT_LATENCY_MS, `latency is 1ms..${MAX_FAULT_LATENCY_MS / 1000}s`)
      .optional(),
    abort: z.literal(true, { error: () => "abort: true cuts the answer's body" }).optional(),
    outage: z
      .literal(true, { error: () => 'outage: true takes the metrics backend down (target: metrics)' })
      .optional(),
    percent: percent.optional(),
    cohort: cohortSchema.optional(),
    for: duration.refine((ms) => ms >= 100 && ms <= 3_600_000, 'for is 100ms..1h').optional(),
    kill: instanceCount.optional(),
    stop: instanceCount.optional(),
    restart: instanceCount.optional(),
    version: z.enum(['canary', 'stable'], { error: () => 'version is canary or stable (whose instances)' }).optional(),
  })
  .superRefine((f, ctx) => {
    const actions = [f.kill, f.stop, f.restart].filter((a) => a !== undefined).length;
    if (f.target === 'instance') {
      const traffic = [f.errors, f.latency, f.abort, f.outage, f.percent, f.cohort].some((e) => e !== undefined);
      if (actions !== 1 || traffic)
        ctx.addIssue({
          code: 'custom',
          path: [],
          message:
            'an instance fault is { target: instance, kill: N | stop: N | restart: N, version?: canary|stable, for?: DURATION }: one action, no traffic effect',
        });
      if (f.stop !== undefined && f.for === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['for'],
          message: 'a stop fault says how long the instances stay stopped (SIGCONT after it): for: 10s',
        });
      return;
    }
    if (actions > 0 || f.version !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['target'],
        message: 'kill, stop, restart and version are for target: instance',
      });
    if (f.for === undefined)
      ctx.addIssue({ code: 'custom', path: ['for'], message: 'a fault says how long it lasts: for: 30s (100ms..1h)' });
    if (f.target === 'metrics') {
      if (f.outage !== true || [f.errors, f.latency, f.abort, f.percent, f.cohort].some((e) => e !== undefined))
        ctx.addIssue({
          code: 'custom',
          path: [],
          message:
            'a metrics fault is { target: metrics, outage: true, for: DURATION }: the metrics backend answers errors',
        });
      return;
    }
    const effects = [f.errors, f.latency, f.abort, f.outage].filter((e) => e !== undefined).length;
    if (effects !== 1 || f.outage !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: [],
        message:
          'a fault has exactly one effect: errors: 503 | reset, latency: 900ms, or abort: true (outage: true is for target: metrics)',
      });
    if (f.percent !== undefined && f.cohort !== undefined)
      ctx.addIssue({ code: 'custom', path: ['percent'], message: 'give percent or cohort.percent, not both' });
  })
  .transform((f): { traffic: DrillFault } | { instance: InstanceDrillFault } => {
    if (f.target === 'instance') {
      const action = f.kill !== undefined ? 'kill' : f.stop !== undefined ? 'stop' : 'restart';
      return {
        instance: {
          action,
          count: (f.kill ?? f.stop ?? f.restart)!,
          version: f.version ?? null,
          forMs: f.for ?? INSTANCE_WATCH_MS,
        },
      };
    }
    const effect: FaultEffect =
      f.outage === true
        ? { kind: 'metricsOutage' }
        : f.errors === 'reset'
          ? { kind: 'reset' }
          : f.errors !== undefined
            ? { kind: 'error', status: f.errors }
            : f.latency !== undefined
              ? { kind: 'latency', ms: f.latency }
              : { kind: 'abort' };
    const cohort =
      f.cohort === undefined
        ? undefined
        : f.cohort.header !== undefined
          ? { header: f.cohort.header.toLowerCase() }
          : { cookie: f.cohort.cookie! };
    return {
      traffic: {
        target: f.target,
        effect,
        percent: f.cohort?.percent ?? f.percent ?? 100,
        ...(cohort !== undefined && { cohort }),
        forMs: f.for!,
      },
    };
  });

const stepSchema = z
  .strictObject({
    fault: faultSchema.optional(),
    parallel: z
      .array(z.strictObject({ fault: faultSchema }))
      .min(1)
      .optional(),
  })
  .refine(
    (s) => (s.fault === undefined) !== (s.parallel === undefined),
    'a method step is { fault: {...} } or { parallel: [ { fault: {...} }, ... ] }',
  );

export const gameDaySchema = z
  .strictObject({
    apiVersion: z.literal('sluice.dev/v1alpha1'),
    kind: z.literal('GameDay'),
    metadata: z.strictObject({ name }),
    spec: z.strictObject({
      service: z
        .string()
        .regex(
          /^[a-z][a-z0-9-]{0,62}$/,
          "service names the service to drill, e.g. checkout--staging (an environment's service)",
        ),
      hypothesis: z.strictObject({
        probes: z.array(probeSchema).min(1, 'the hypothesis needs at least one probe: the steady state it checks'),
      }),
      method: z.array(stepSchema).min(1, 'the method needs at least one fault'),
      stopConditions: z.array(z.strictObject({ probe: name, below: percent })).default([]),
      steadyState: z
        .strictObject({ before: duration.default(3000), after: duration.default(3000) })
        .default({ before: 3000, after: 3000 }),
      signOff: z.strictObject({ role: z.enum(['approver', 'admin']) }).optional(),
      schedule: z
        .strictObject({
          rrule: z.string().min(1, 'rrule is an RFC 5545 rule such as FREQ=WEEKLY;BYDAY=TU;BYHOUR=10'),
          start: z.string().min(1).default('2026-01-01T00:00'),
          timeZone: z.string().min(1).default('UTC'),
          remind: duration
            .refine((ms) => ms >= 0 && ms <= 30 * 86_400_000, 'remind is 0s..30d before each run')
            .default(86_400_000),
          owners: z.array(z.string().min(1).max(100)).max(50).default([]),
        })
        .superRefine((sc, ctx) => {
          try {
            compileRule(sc);
          } catch (err) {
            ctx.addIssue({ code: 'custom', message: (err as Error).message });
          }
        })
        .optional(),
    }),
  })
  .superRefine((d, ctx) => {
    const probes = new Set(d.spec.hypothesis.probes.map((p) => p.name));
    d.spec.stopConditions.forEach((c, i) => {
      if (!probes.has(c.probe))
        ctx.addIssue({
          code: 'custom',
          path: ['spec', 'stopConditions', i, 'probe'],
          message: `no probe named "${c.probe}"; the hypothesis has ${[...probes].join(', ')}`,
        });
    });
  });

/** Reads one GameDay document; a SpecError lists every problem with file:line:col. */
export function parseGameDay(text: string, file: string): GameDay {
  const composed = composeDocuments(text, file);
  if (composed.issues.length > 0) throw new SpecError(composed.issues);
  if (composed.documents.length !== 1) {
    throw new SpecError([
      {
        file,
        line: 1,
        column: 1,
        path: '',
        message: `a drill file holds one GameDay document, found ${composed.documents.length}`,
      },
    ]);
  }
  const { doc, value } = composed.documents[0]!;
  const r = gameDaySchema.safeParse(value, { error: specErrorMap });
  if (!r.success) throw new SpecError(r.error.issues.map((i) => toSpecIssue(i, doc, composed.lineCounter, file)));
  const s = r.data.spec;
  return {
    name: r.data.metadata.name,
    service: s.service,
    probes: s.hypothesis.probes.map((p) => ({
      name: p.name,
      url: p.http.url,
      expectStatus: p.http.expectStatus,
      everyMs: p.every,
      tolerance: p.tolerance,
      weight: p.weight,
    })),
    method: s.method.map((step): DrillStep => {
      const faults = step.fault !== undefined ? [step.fault] : step.parallel!.map((p) => p.fault);
      const instanceFaults = faults.flatMap((f) => ('instance' in f ? [f.instance] : []));
      return {
        faults: faults.flatMap((f) => ('traffic' in f ? [f.traffic] : [])),
        ...(instanceFaults.length > 0 && { instanceFaults }),
      };
    }),
    stopConditions: s.stopConditions,
    steadyStateMs: s.steadyState,
    signOff: s.signOff ?? null,
    schedule:
      s.schedule === undefined
        ? null
        : {
            rrule: s.schedule.rrule,
            start: s.schedule.start,
            timeZone: s.schedule.timeZone,
            remindMs: s.schedule.remind,
            owners: s.schedule.owners,
          },
  };
}
