import type { ReleaseState } from '../release/state.ts';
import { describeStep } from '../release/strategy.ts';
import { sectionsMarkdown } from './markdown.ts';
import { describeRule } from './plain-words.ts';
import type { GeneratedDocument, GeneratedFrom } from './types.ts';

export interface RunbookInput {
  service: string;
  labels: Record<string, string>;
  /** The spec file the service was last applied from (null: through the API). */
  file: string | null;
  /** Newest first. */
  releases: ReleaseState[];
  /** The drills run against the service and its rollback rehearsals, each with its last result, newest first. */
  drills: RunbookDrill[];
  generatedFrom: GeneratedFrom;
  generatedAt: number;
}

/** A drill (game day) or rollback rehearsal of the service, with its last result. */
export interface RunbookDrill {
  drill: string;
  /** The run number of its last run (null: a rehearsal, which has none). */
  lastRun: number | null;
  at: string;
  result: string;
  /** Where its full record is. */
  command: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** How a service is released and rolled back: the exact commands, its contract, owners, and its recent history. */
export function runbook(i: RunbookInput): GeneratedDocument {
  const s = i.service;
  const last = i.releases[0];
  const owner = i.labels.owner ?? i.labels.team ?? 'not set (add metadata.labels.owner or team to the spec)';
  const sections = [
    {
      heading: 'Owners and escalation',
      body: {
        owner,
        team: i.labels.team ?? null,
        escalation: i.labels.escalation ?? i.labels.oncall ?? 'not set (add metadata.labels.escalation)',
      },
    },
    {
      heading: 'Release',
      body: [
        `sluice apply -f ${i.file ?? 'SPEC.yaml'} --commit $(git rev-parse HEAD)   # starts a release when the template changed`,
        `sluice status ${s}                # steps, weights, verdicts`,
        `sluice wait ${s} --for healthy --timeout 30m   # exit 0 at 100%, 1 as soon as it is rolled back`,
        `sluice promote ${s} [--full]      # move on without waiting (recorded with its evidence)`,
      ],
    },
    {
      heading: 'Roll back',
      body: [
        `sluice abort ${s} --reason "…"    # all traffic back to stable at once, then the canary stops`,
        `sluice undo ${s}                  # release the previous revision again once a release has ended`,
        `sluice doc rollback ${s}          # the rollback log: trigger, figures, timeline`,
      ],
    },
    {
      heading: 'Contract',
      body:
        last === undefined
          ? 'No release yet.'
          : [
              `steps: ${last.steps.map((x) => describeStep(x)).join(' → ')}`,
              `evaluated every ${last.contract.intervalMs / 1000} s over ${last.contract.windowMs / 1000} s; ${last.contract.consecutive} failure(s) in a row ${last.contract.onFail === 'pause' ? 'pause' : 'roll back'}`,
              ...last.contract.rules.map((r) => `rule ${describeRule(r)}`),
            ],
    },
    {
      heading: 'Recent releases',
      body: i.releases.slice(0, 10).map((r) => ({
        release: r.number,
        version: r.to.version,
        status: r.status,
        started: iso(r.startedAt),
        ended: iso(r.endedAt),
        revertMs: r.rollback?.revertMs ?? null,
      })),
    },
    {
      heading: 'Drills and their last results',
      body:
        i.drills.length === 0
          ? `No drill or rollback rehearsal recorded for ${s} yet (sluice gameday run -f DRILL.yaml, sluice gameday rehearse).`
          : i.drills,
    },
  ];
  const footer = `Generated ${iso(i.generatedAt)} from the log at sequence ${i.generatedFrom.seq}${i.generatedFrom.hash === null ? '' : ` (chain hash ${i.generatedFrom.hash})`}.`;
  const title = `Runbook: ${s}`;
  return {
    kind: 'runbook',
    title,
    service: s,
    release: null,
    generatedFrom: i.generatedFrom,
    generatedAt: iso(i.generatedAt)!,
    sections,
    markdown: sectionsMarkdown(title, sections, footer),
  };
}
