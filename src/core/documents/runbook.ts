import type { ReleaseState } from '../release/state.ts';
import { describeStep } from '../release/strategy.ts';
import { sectionsMarkdown } from './markdown.ts';
import { describeRule } from './release-documents.ts';
import type { GeneratedDocument, GeneratedFrom } from './types.ts';

export interface RunbookInput {
  service: string;
  labels: Record<string, string>;
  /** The spec file the service was last applied from (null: through the API). */
  file: string | null;
  /** Newest first. */
  releases: ReleaseState[];
  /** Drills (game days) and their last results, where another capability records them; empty: none known. */
  drills: { name: string; at: string; result: string }[];
  generatedFrom: GeneratedFrom;
  generatedAt: number;
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
        `sluice wait ${s}                  # until it ends`,
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
    { heading: 'Drills', body: i.drills.length === 0 ? 'No drills recorded for this service.' : i.drills },
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
