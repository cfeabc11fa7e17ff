import type { ServiceEvent } from '../events.ts';
import { describeStep } from '../release/strategy.ts';
import { sectionsMarkdown } from './markdown.ts';
import { describeRule, specValue } from './plain-words.ts';
import { timelineOf } from './timeline.ts';
import type { DocumentKind, GeneratedDocument, ReleaseDocInput } from './types.ts';

export { describeRule };

const iso = (ms: number | null | undefined) =>
  ms === null || ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString();
const secs = (ms: number | null) => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(3)} s`);

/** What the data plane says the failing version did to users (from the contract's counts and the router's weights). */
export function impactOf(i: ReleaseDocInput): {
  failedRequests: number | null;
  canaryRequests: number | null;
  usersAffectedShare: number | null;
  durationMs: number | null;
  firstTrafficAt: string | null;
} {
  const toKey = i.release.to.key;
  let firstTraffic: number | null = null;
  let maxWeight = 0;
  let counts: { requests: number; errors: number } | null = null;
  for (const e of i.events) {
    if (e.type === 'traffic.applied') {
      const w = e.weights[toKey] ?? 0;
      if (w > 0) firstTraffic ??= e.at;
      maxWeight = Math.max(maxWeight, w);
    }
    if (e.type === 'analysis.evaluated' && e.accumulated !== undefined) counts = e.accumulated.canary.sum;
  }
  const reverted = i.release.rollback?.trafficRevertedAt ?? null;
  return {
    failedRequests: counts?.errors ?? null,
    canaryRequests: counts?.requests ?? null,
    usersAffectedShare: firstTraffic === null ? 0 : maxWeight / 100,
    durationMs: firstTraffic !== null && reverted !== null ? reverted - firstTraffic : null,
    firstTrafficAt: iso(firstTraffic),
  };
}

function document(
  kind: DocumentKind,
  title: string,
  i: ReleaseDocInput,
  sections: { heading: string; body: unknown }[],
): GeneratedDocument {
  const footer = `Generated ${iso(i.generatedAt)} from the log at sequence ${i.generatedFrom.seq}${i.generatedFrom.hash === null ? '' : ` (chain hash ${i.generatedFrom.hash})`}; generated again on demand, never edited.`;
  return {
    kind,
    title,
    service: i.service,
    release: i.release.number,
    generatedFrom: i.generatedFrom,
    generatedAt: iso(i.generatedAt)!,
    sections,
    markdown: sectionsMarkdown(title, sections, footer),
  };
}

const ofType = <T extends ServiceEvent['type']>(events: readonly ServiceEvent[], type: T) =>
  events.filter((e): e is Extract<ServiceEvent, { type: T }> => e.type === type);

export function releasePlan(i: ReleaseDocInput): GeneratedDocument {
  const r = i.release;
  const plan = ofType(i.events, 'plan.requested').at(-1)?.plan;
  const approvals = ofType(i.events, 'approval.given').map(
    (e) => `${e.approval.by} at ${iso(e.at)}${e.approval.comment ? `: ${e.approval.comment}` : ''}`,
  );
  // Each gate's last result (a gate is evaluated again when its result changes).
  const gates = [
    ...new Map(ofType(i.events, 'gate.evaluated').map((e) => [e.result.gate, e.result] as const)).values(),
  ];
  const overrides = ofType(i.events, 'gate.overridden').map(
    (e) => `gate ${e.override.gate} overridden by ${e.override.by} at ${iso(e.override.at)}: ${e.override.reason}`,
  );
  const mode = r.contract.revert;
  const revert =
    mode === undefined || mode.kind === 'instant'
      ? 'all traffic returns to the stable version at once'
      : `traffic walks back down ${mode.steps.join('% → ')}%`;
  return document('plan', `Release plan: ${i.service} ${r.from?.version ?? '(first deploy)'} → ${r.to.version}`, i, [
    {
      heading: 'Scope',
      body: {
        service: i.service,
        release: r.number,
        from: r.from?.version ?? null,
        to: r.to.version,
        kind: r.kind,
        strategy: r.plan.strategy,
        'spec fields changed':
          [...new Set(i.specChanges.map((c) => c.path.split('.')[0]!))].join(', ') || 'none (the same spec again)',
      },
    },
    {
      heading: 'Spec diff',
      body:
        r.from === null
          ? 'First deploy: no earlier revision to compare with.'
          : i.specChanges.length === 0
            ? 'The two revisions have the same spec.'
            : i.specChanges.map((c) => ({ field: c.path, from: specValue(c.from), to: specValue(c.to) })),
    },
    {
      heading: 'Commits',
      body:
        i.commits.length === 0
          ? 'No commits are known for this version (sluice analytics git, or sluice apply --commit).'
          : i.commits.map((c) => ({
              sha: c.sha.slice(0, 12),
              committed: iso(c.committedAt),
              message: c.message ?? '',
            })),
    },
    {
      heading: 'Risk',
      body:
        plan === undefined
          ? 'No environment plan: released directly (no gates).'
          : {
              level: plan.risk.level,
              why: plan.risk.reason,
              environment: plan.environment,
              'asked by': plan.requestedBy,
            },
    },
    {
      heading: 'Gates and approvals',
      body: [
        ...gates.map((g) => `${g.gate}: ${g.outcome} — ${g.detail}`),
        ...approvals.map((a) => `approved by ${a}`),
        ...overrides,
      ],
    },
    { heading: 'Steps', body: r.steps.map((s, n) => ({ step: n + 1, what: describeStep(s) })) },
    {
      heading: 'Rollback contract',
      body: [
        `Every ${r.contract.intervalMs / 1000} s each rule is judged over the last ${r.contract.windowMs / 1000} s (at least ${r.contract.minSamples} requests).`,
        `A rule that fails ${r.contract.consecutive} time(s) in a row ${r.contract.onFail === 'pause' ? 'pauses the release for a person' : `rolls the release back: ${revert}`}.`,
        ...r.contract.rules.map((x) => `Rule ${describeRule(x)}.`),
      ],
    },
    {
      heading: 'Communication',
      body:
        i.notifications.length === 0
          ? 'No notifications in the spec: nobody is told automatically.'
          : i.notifications.map(
              (n) => `${n.driver}${n.url ? ` ${n.url}` : ''}: ${n.events?.join(', ') ?? 'milestones'}`,
            ),
    },
  ]);
}

export function stagedSchedule(i: ReleaseDocInput): GeneratedDocument {
  const r = i.release;
  const starts = ofType(i.events, 'step.started');
  const evaluations = ofType(i.events, 'analysis.evaluated');
  const end = r.endedAt ?? i.generatedAt;
  // The plan: the first step starts when the new version is ready; a timed pause lasts its duration, a
  // weight change no time, and a pause without one waits for a person (no planned start after it).
  const firstStart = starts.find((e) => e.index === 0)?.at ?? null;
  let planned: number | null = firstStart;
  const plannedStarts = r.steps.map((s) => {
    const at = planned;
    if (planned !== null && s.kind === 'pause') planned = s.durationMs === null ? null : planned + s.durationMs;
    return at;
  });
  const rows = r.steps.map((s, n) => {
    const started = starts.find((e) => e.index === n);
    const next = starts.find((e) => e.index > n)?.at ?? (started !== undefined ? end : null);
    const during = evaluations.filter(
      (e) => started !== undefined && e.at >= started.at && (next === null || e.at < next),
    );
    const count = (o: string) => during.reduce((k, e) => k + e.verdicts.filter((v) => v.outcome === o).length, 0);
    return {
      step: n + 1,
      what: describeStep(s),
      planned:
        s.kind === 'pause'
          ? s.durationMs === null
            ? 'until promoted'
            : `${s.durationMs / 1000} s`
          : 'as soon as the previous step passes',
      plannedStart: iso(plannedStarts[n]) ?? (n === 0 ? 'when the new version is ready' : 'after a person promotes'),
      actualStart: iso(started?.at),
      durationS: started === undefined || next === null ? null : (next - started.at) / 1000,
      verdicts:
        started === undefined
          ? 'not reached'
          : `${count('Pass')} Pass, ${count('Inconclusive')} Inconclusive, ${count('Fail')} Fail`,
    };
  });
  return document('schedule', `Staged schedule: ${i.service} release ${r.number} (${r.to.version})`, i, [
    { heading: 'Release', body: { started: iso(r.startedAt), ended: iso(r.endedAt), status: r.status } },
    { heading: 'Steps', body: rows },
  ]);
}

export function rollbackLog(i: ReleaseDocInput): GeneratedDocument {
  const r = i.release;
  const log = r.rollback;
  if (log === null) {
    return document('rollback', `Rollback log: ${i.service} release ${r.number}`, i, [
      { heading: 'Rollback', body: `Release ${r.number} was not rolled back (status ${r.status}).` },
    ]);
  }
  const after = ofType(i.events, 'traffic.applied')
    .filter((e) => log.trafficRevertedAt !== null && e.at <= log.trafficRevertedAt)
    .at(-1);
  return document('rollback', `Rollback log: ${i.service} release ${r.number} (${r.to.version})`, i, [
    { heading: 'Trigger', body: { kind: log.kind, rule: log.trigger, reason: log.reason, by: log.actor } },
    {
      heading: 'Figures',
      body: log.verdicts.map((v) => ({
        rule: v.rule,
        outcome: v.outcome,
        canary: v.canary,
        baseline: v.baseline,
        threshold: v.threshold,
        canarySamples: v.canarySamples,
        reason: v.reason,
      })),
    },
    {
      heading: 'Timeline',
      body: [
        { what: 'detected', at: iso(log.detectedAt), sinceDetectionMs: 0 },
        {
          what: 'traffic reverted',
          at: iso(log.trafficRevertedAt),
          sinceDetectionMs: log.trafficRevertedAt === null ? null : log.trafficRevertedAt - log.detectedAt,
        },
        {
          what: 'canary stopped',
          at: iso(log.canaryStoppedAt),
          sinceDetectionMs: log.canaryStoppedAt === null ? null : log.canaryStoppedAt - log.detectedAt,
        },
      ],
    },
    {
      heading: 'State after the rollback',
      body: {
        stable: r.from?.version ?? null,
        weights: after === undefined ? null : after.weights,
        timeToRevert: secs(log.revertMs),
      },
    },
  ]);
}

/** The retrospective skeleton in the Google SRE post-mortem format, its facts filled from the log and the data plane. */
export function retrospective(i: ReleaseDocInput): GeneratedDocument {
  const r = i.release;
  const log = r.rollback;
  const impact = impactOf(i);
  // Overrides: a gate of the plan let through, or a step promoted past rules without evidence.
  const overrides = [
    ...ofType(i.events, 'gate.overridden').map(
      (e) => `${e.override.by} overrode gate ${e.override.gate} at ${iso(e.override.at)}: ${e.override.reason}`,
    ),
    ...ofType(i.events, 'release.promoted')
      .filter((e) => (e.withoutEvidence?.length ?? 0) > 0)
      .map(
        (e) =>
          `${e.actor} promoted from step ${e.fromStep + 1} at ${iso(e.at)} without evidence for ${e.withoutEvidence!.join(', ')}${e.reason ? `: ${e.reason}` : ''}`,
      ),
  ];
  const trigger =
    log !== null
      ? `rollback (${log.kind}) on ${log.trigger}`
      : overrides.length > 0
        ? `override (${overrides[0]})`
        : `none (release ${r.status}, no rollback and no override)`;
  const owner = i.labels.owner ?? i.labels.team ?? 'TBD';
  const pct = impact.usersAffectedShare === null ? 'n/a' : `${Math.round(impact.usersAffectedShare * 100)}%`;
  return document('retro', `Retrospective: ${i.service} ${r.to.version} (release ${r.number})`, i, [
    {
      heading: 'Summary',
      body: `Release ${r.number} of ${i.service} (${r.from?.version ?? 'nothing'} → ${r.to.version}) ended ${r.status}; trigger: ${trigger}.`,
    },
    {
      heading: 'Impact',
      body: {
        'failed requests (new version)': impact.failedRequests,
        'requests served by the new version': impact.canaryRequests,
        'error rate of the new version': impact.canaryRequests
          ? `${(((impact.failedRequests ?? 0) / impact.canaryRequests) * 100).toFixed(2)}%`
          : 'n/a',
        'share of users exposed (most traffic the new version had)': pct,
        'duration (first traffic → reverted)': secs(impact.durationMs),
      },
    },
    {
      heading: 'Root causes',
      body: [
        'TBD: what in the change caused the failure (fill in)',
        'TBD: why it was not caught before production (fill in)',
      ],
    },
    {
      heading: 'Trigger',
      body:
        log !== null
          ? `${log.kind} rollback on ${log.trigger}: ${log.reason}`
          : overrides.length > 0
            ? overrides
            : trigger,
    },
    {
      heading: 'Detection',
      body:
        log === null
          ? 'n/a'
          : `Detected by ${log.actor === 'sluice-controller' ? 'the rollback contract' : log.actor} at ${iso(log.detectedAt)}, ${secs(impact.firstTrafficAt === null ? null : log.detectedAt - Date.parse(impact.firstTrafficAt))} after the new version first took traffic.`,
    },
    {
      heading: 'Resolution',
      body:
        log === null
          ? 'n/a'
          : `Traffic reverted to ${r.from?.version ?? 'nothing'} at ${iso(log.trafficRevertedAt)} (${secs(log.revertMs)} after detection); canary stopped at ${iso(log.canaryStoppedAt)}.`,
    },
    {
      heading: 'Timeline',
      body: timelineOf(i.events, r.startedAt).map((t) => ({
        at: t.at,
        offsetMs: t.offsetMs,
        seq: t.seq,
        actor: t.actor,
        event: t.text,
      })),
    },
    {
      heading: 'What went well',
      body:
        log !== null && log.revertMs !== null
          ? [`The revert took ${secs(log.revertMs)} and needed no person.`, 'TBD']
          : ['TBD'],
    },
    {
      heading: 'What went badly',
      body: impact.failedRequests ? [`${impact.failedRequests} requests failed before the revert.`, 'TBD'] : ['TBD'],
    },
    {
      heading: 'Action items',
      body: [
        { action: 'Find and fix the root cause', owner, status: 'open' },
        { action: 'Add a test or a contract rule that would have caught it earlier', owner, status: 'open' },
      ],
    },
  ]);
}

export function communications(i: ReleaseDocInput): GeneratedDocument {
  const r = i.release;
  const log = r.rollback;
  const when = iso(r.startedAt);
  return document('comms', `Communication templates: ${i.service} ${r.to.version}`, i, [
    {
      heading: 'Release announced (customers)',
      body: `We are rolling out ${i.service} ${r.to.version} gradually from ${when}. You should notice nothing; if you do, contact support.`,
    },
    {
      heading: 'Release announced (internal)',
      body: `${i.service} ${r.from?.version ?? '(new)'} → ${r.to.version} is being released in ${r.steps.length} steps from ${when} under its rollback contract (${r.contract.rules.length} rules). Follow it with: sluice status ${i.service}`,
    },
    {
      heading: 'Rollback in progress (customers)',
      body: `Some requests to ${i.service} failed${log === null ? '' : ` from ${iso(log.detectedAt)}`}. We have moved all traffic back to the previous version; service is being restored.`,
    },
    {
      heading: 'Rollback in progress (internal)',
      body:
        log === null
          ? `No rollback recorded for release ${r.number}.`
          : `${i.service} ${r.to.version} rolled back (${log.kind}, ${log.trigger}): ${log.reason}. Traffic on ${r.from?.version ?? 'nothing'} since ${iso(log.trafficRevertedAt)}.`,
    },
    {
      heading: 'Resolved',
      body: `${i.service} is ${log === null ? `on ${r.to.version}` : `back on ${r.from?.version ?? 'its previous version'}`}; ${r.status === 'Succeeded' ? 'the release is complete.' : 'a retrospective follows.'}`,
    },
  ]);
}
