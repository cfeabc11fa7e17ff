import { type DeploymentFacts, deploymentsFromLog, serviceEnvironment } from '../core/analytics/from-log.ts';
import type { ServiceEvent } from '../core/events.ts';
import { rehearsals } from '../engine/rehearsal-facts.ts';
import { SERVER_LOG } from '../engine/server-log.ts';
import type { Store } from '../store/types.ts';
import type { AnalyticsStore } from './analytics-store.ts';

const PAGE = 5000;

async function serviceLog(store: Store, service: string): Promise<ServiceEvent[]> {
  const out: ServiceEvent[] = [];
  for (let afterSeq = 0; ;) {
    const page = await store.events({ service, afterSeq, limit: PAGE });
    out.push(...page);
    if (page.length < PAGE) return out;
    afterSeq = page.at(-1)!.seq;
  }
}

function declaredFlags(spec: unknown): string[] {
  const flags = (spec as { spec?: { flags?: unknown } } | null)?.spec?.flags;
  return Array.isArray(flags) ? flags.filter((f): f is string => typeof f === 'string') : [];
}

function teamOf(spec: unknown): string | null {
  const team = (spec as { metadata?: { labels?: Record<string, unknown> } } | null)?.metadata?.labels?.team;
  return typeof team === 'string' ? team : null;
}

/**
 * Bring Sluice's own releases into the analytics store: the services whose logs grew since the last
 * projection are read again and their ended releases written as deployments (replacing the earlier
 * projection of the same release). Returns the log sequence projected up to.
 */
export async function projectLog(store: Store, analytics: AnalyticsStore): Promise<number> {
  const head = await store.chainHead();
  const from = analytics.projectedSeq();
  if (head === null || head.seq <= from) return from;
  const touched = new Set<string>();
  let last = from;
  for (let afterSeq = from; ;) {
    const page = await store.events({ afterSeq, limit: PAGE });
    for (const e of page) if (e.service !== SERVER_LOG) touched.add(e.service);
    if (page.length > 0) last = page.at(-1)!.seq;
    if (page.length < PAGE) break;
    afterSeq = last;
  }
  const rehearsed = touched.size === 0 ? [] : (await rehearsals(store)).filter((r) => r.ok);
  for (const name of touched) {
    const events = await serviceLog(store, name);
    const stored = await store.service(name);
    const { service } = serviceEnvironment(name);
    const versions = analytics.versionCommits(service);
    const flags = new Map((await store.revisions(name)).map((r) => [r.key, declaredFlags(r.spec)]));
    const facts: DeploymentFacts = {
      commitsOf: (v) => versions.get(v) ?? [],
      flagsOf: (key) => flags.get(key) ?? [],
      rehearsedBefore: (version, environment, at) =>
        rehearsed.some(
          (r) => r.service === service && r.environment === environment && r.version === version && r.at <= at,
        ),
    };
    analytics.putDeployments(deploymentsFromLog(name, events, teamOf(stored?.spec ?? null), facts));
  }
  analytics.setProjectedSeq(last);
  return last;
}
