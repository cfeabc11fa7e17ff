import type { EnvironmentsView, PlanAnswer } from '../../views/index.ts';
import { ApiError } from '../client.ts';
import { type CommandDef, EXIT, UsageError } from '../command.ts';

const MARK: Record<string, string> = { passed: 'ok', failed: 'FAILED', waiting: 'waiting', overridden: 'OVERRIDDEN' };

/** A plan and its gates, one line each: what release, approve and override print. */
export function formatPlan(a: PlanAnswer): string {
  const p = a.plan;
  const head = {
    started: `started: ${p.release?.id ?? ''} in ${p.release?.service ?? p.environment}`,
    waiting: 'waiting',
    refused: 'refused',
  }[a.outcome];
  return [
    `${p.version} → ${p.environment}: ${head} (plan ${p.id}, risk ${p.risk.level}, asked by ${p.requestedBy})`,
    ...p.gates.map((g) => `  ${g.gate.padEnd(21)} ${(MARK[g.outcome] ?? g.outcome).padEnd(10)} ${g.detail}`),
    ...(a.postmortem ? [`post-mortem ${a.postmortem} opened (GET /api/postmortems)`] : []),
  ].join('\n');
}

/** Prints a plan (also from a 409 refusal, which carries it) and gives the exit code: 1 when refused. */
export async function planCall(
  run: () => Promise<PlanAnswer>,
  out: (t: string) => void,
  json: boolean,
): Promise<number> {
  let a: PlanAnswer;
  try {
    a = await run();
  } catch (err) {
    const detail = (err as ApiError).detail as PlanAnswer | undefined;
    if (!(err instanceof ApiError) || detail?.plan === undefined) throw err;
    a = detail;
  }
  out(json ? JSON.stringify(a, null, 2) : formatPlan(a));
  return a.outcome === 'refused' ? EXIT.failed : EXIT.ok;
}

function formatEnvironments(v: EnvironmentsView): string {
  const rows = v.environments.map((e) => [
    e.environment,
    e.phase ?? '-',
    e.stableVersion ?? '-',
    e.canaryVersion ?? '-',
    e.release ? `${e.release.id} ${e.release.status}` : '-',
    e.plan && (e.plan.status === 'Planned' || e.plan.status === 'Refused')
      ? `${e.plan.version} ${e.plan.status}: ${e.plan.detail}`
      : '-',
  ]);
  const head = ['ENVIRONMENT', 'PHASE', 'STABLE', 'CANARY', 'RELEASE', 'WAITING'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [`${v.service} (risk ${v.risk.level}: ${v.risk.reason})`, line(head), ...rows.map(line)].join('\n');
}

export const releaseCommand: CommandDef = {
  name: 'release',
  summary: 'release a version to an environment once its gates pass; without --to, where each version is',
  usage: 'sluice release SERVICE [--version V --to ENVIRONMENT]',
  options: { version: { type: 'string' }, to: { type: 'string' } },
  args: ['service'],
  async run({ positionals, values, client, out, json }) {
    const service = positionals[0]!;
    if (values.to === undefined && values.version === undefined) {
      const v = await client().get<EnvironmentsView>(`/api/services/${service}/environments`);
      out(json ? JSON.stringify(v, null, 2) : formatEnvironments(v));
      return EXIT.ok;
    }
    if (values.to === undefined || values.version === undefined)
      throw new UsageError('give both --version V and --to ENVIRONMENT (or neither, to see the environments)');
    return planCall(
      () => client().post<PlanAnswer>(`/api/services/${service}/releases`, { version: values.version, to: values.to }),
      out,
      json,
    );
  },
};
