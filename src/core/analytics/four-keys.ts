import { bucketsOf, DAY_MS, utcDay } from './buckets.ts';
import { median, medianSorted, quantileSorted, seconds } from './stats.ts';
import { DEFAULT_TIERS, type Tier, tierAtLeast, tierBelow, type TierThresholds } from './tiers.ts';
import type { Bucketing, Commit, Deployment, History, Incident, Shipment, Window } from './types.ts';

/** Which deployments count: one environment (production unless asked), optionally one service or team. */
export interface KeysFilter {
  environment: string;
  service?: string;
  team?: string;
}

/** A share of the deployments whose flag is known; null when no deployment in the window knows it. */
export interface Share {
  share: number | null;
  available: boolean;
  counts: { known: number; yes: number };
}

export interface FourKeys {
  window: { since: string; until: string };
  filter: KeysFilter;
  tiers: { version: string; year: number };
  deployments: { count: number; succeeded: number; rolledBack: number };
  deploymentFrequency: {
    perDay: number;
    medianDeployDaysPerWeek: number | null;
    tier: Tier | null;
    counts: { deployments: number; days: number; deployDays: number; weeks: number };
  };
  leadTime: {
    medianS: number | null;
    p90S: number | null;
    tier: Tier | null;
    counts: { commits: number; withoutCommitTime: number };
  };
  changeFailureRate: {
    value: number | null;
    tier: Tier | null;
    counts: { deployments: number; failed: number; rolledBack: number; followedByIncident: number };
  };
  timeToRestore: {
    medianS: number | null;
    p90S: number | null;
    tier: Tier | null;
    counts: { rollbacks: number; incidents: number; unresolvedIncidents: number };
  };
  progressive: Share;
  rehearsed: Share;
  behindFlags: Share;
  /** From a failure's detection to the traffic revert, over Sluice's own rollbacks. */
  rollbackTime: {
    count: number;
    medianS: number | null;
    p90S: number | null;
    maxS: number | null;
    histogram: { leS: number | null; count: number }[];
  };
}

/** The upper bounds (seconds) of the rollback-time histogram; the last bucket is unbounded. */
export const ROLLBACK_TIME_BOUNDS_S = [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300] as const;

/** One deployment with what its failure was found to be. */
interface Judged {
  d: Deployment;
  followedByIncident: boolean;
}

interface Prepared {
  /** Matching deployments, by finishedAt. */
  judged: Judged[];
  incidents: Incident[];
  /** First shipments by successful matching deployments, by shippedAt. */
  shipments: Shipment[];
}

const matches = (f: KeysFilter, d: { service: string; environment: string; team?: string | null }) =>
  d.environment === f.environment &&
  (f.service === undefined || d.service === f.service) &&
  (f.team === undefined || d.team === f.team);

const byFinish = (a: Deployment, b: Deployment) =>
  a.finishedAt - b.finishedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Whether shipment `a` (a finish time and a deployment id) came before `b`: the earlier finish, then the smaller id. */
export const isEarlierShipment = (
  a: { shippedAt: number; deploymentId: string },
  b: { shippedAt: number; deploymentId: string },
): boolean => a.shippedAt < b.shippedAt || (a.shippedAt === b.shippedAt && a.deploymentId < b.deploymentId);

/**
 * Each commit's first successful deployment of each service, among `deployments` (sorted by finish),
 * with its commit time when known. A commit two services ship (a monorepo) has a lead time in each.
 */
export function firstShipments(deployments: readonly Deployment[], commits: readonly Commit[]): Shipment[] {
  const committedAt = new Map(commits.map((c) => [c.sha, c.committedAt]));
  const shipped = new Set<string>();
  const out: Shipment[] = [];
  for (const d of deployments) {
    if (d.result !== 'success') continue;
    for (const sha of d.commits) {
      const key = `${d.service}\0${sha}`;
      if (shipped.has(key)) continue;
      shipped.add(key);
      out.push({ sha, deploymentId: d.id, shippedAt: d.finishedAt, committedAt: committedAt.get(sha) ?? null });
    }
  }
  return out;
}

/**
 * Judge every deployment once. A deployment failed if it was rolled back, or if an incident on its
 * service opened after it finished and before the next deployment of that service (same environment)
 * finished. A commit's lead time belongs to the first successful deployment that shipped it.
 */
function prepare(history: History, filter: KeysFilter): Prepared {
  const deployments = history.deployments.filter((d) => matches(filter, d)).sort(byFinish);
  // An incident counts for the filter's service, or its team's services (by their deployments' team label), or any service.
  const teamServices =
    filter.team === undefined
      ? null
      : new Set([
          ...history.deployments.filter((d) => d.team === filter.team).map((d) => d.service),
          ...(history.teamServices ?? []),
        ]);
  const incidents = history.incidents
    .filter(
      (i) =>
        i.environment === filter.environment &&
        (filter.service === undefined || i.service === filter.service) &&
        (teamServices === null || teamServices.has(i.service)),
    )
    .sort((a, b) => a.openedAt - b.openedAt);
  const openings = new Map<string, number[]>();
  for (const i of incidents) {
    const list = openings.get(i.service);
    if (list === undefined) openings.set(i.service, [i.openedAt]);
    else list.push(i.openedAt);
  }
  const nextFinish = new Map<string, number>();
  const judged: Judged[] = new Array<Judged>(deployments.length);
  for (let k = deployments.length - 1; k >= 0; k--) {
    const d = deployments[k]!;
    const until = nextFinish.get(d.service) ?? Infinity;
    nextFinish.set(d.service, d.finishedAt);
    judged[k] = { d, followedByIncident: anyBetween(openings.get(d.service) ?? [], d.finishedAt, until) };
  }
  const shipments = (history.shipments ?? firstShipments(deployments, history.commits))
    .slice()
    .sort((a, b) => a.shippedAt - b.shippedAt);
  return { judged, incidents, shipments };
}

/** Whether a sorted list holds a value in the open interval (after, before). */
function anyBetween(sorted: readonly number[], after: number, before: number): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo]! < before;
}

/** The index of the first judged deployment that finished at or after `t` (they are sorted by finishedAt). */
function firstAtOrAfter(judged: readonly Judged[], t: number): number {
  let lo = 0;
  let hi = judged.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (judged[mid]!.d.finishedAt < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function firstShippedAtOrAfter(shipments: readonly Shipment[], t: number): number {
  let lo = 0;
  let hi = shipments.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (shipments[mid]!.shippedAt < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function share(items: readonly Deployment[], flag: (d: Deployment) => boolean | null): Share {
  let known = 0;
  let yes = 0;
  for (const d of items) {
    const v = flag(d);
    if (v === null) continue;
    known++;
    if (v) yes++;
  }
  return { share: known === 0 ? null : yes / known, available: known > 0, counts: { known, yes } };
}

const sortedAsc = (values: number[]) => values.sort((a, b) => a - b);

function aggregate(p: Prepared, window: Window, filter: KeysFilter, tiers: TierThresholds): FourKeys {
  const inWindow = p.judged.slice(firstAtOrAfter(p.judged, window.since), firstAtOrAfter(p.judged, window.until));
  const deployments = inWindow.map((j) => j.d);
  const days = (window.until - window.since) / DAY_MS;

  // Distinct UTC deploy days in each whole 7-day block from the window's start; a shorter rest at the
  // end is left out (a 1-day "week" would pull the median down), unless the window is shorter than a week.
  const whole = Math.floor(days / 7);
  const blocks = Array.from({ length: Math.max(1, whole) }, () => new Set<number>());
  for (const d of deployments) {
    const block = Math.floor((d.finishedAt - window.since) / (7 * DAY_MS));
    if (block < blocks.length) blocks[block]!.add(utcDay(d.finishedAt));
  }
  const weeks = blocks.map((b) => b.size);
  const deployDays = new Set(deployments.map((d) => utcDay(d.finishedAt)));
  const perDay = days > 0 ? deployments.length / days : 0;

  const leads: number[] = [];
  let withoutCommitTime = 0;
  for (
    let i = firstShippedAtOrAfter(p.shipments, window.since);
    i < p.shipments.length && p.shipments[i]!.shippedAt < window.until;
    i++
  ) {
    const s = p.shipments[i]!;
    if (s.committedAt === null) withoutCommitTime++;
    else leads.push(s.shippedAt - s.committedAt);
  }
  sortedAsc(leads);

  const rolledBack = inWindow.filter((j) => j.d.result === 'rolledback');
  const followed = inWindow.filter((j) => j.followedByIncident);
  const failed = inWindow.filter((j) => j.d.result === 'rolledback' || j.followedByIncident).length;
  const cfr = deployments.length === 0 ? null : failed / deployments.length;

  const restores: number[] = [];
  for (const j of rolledBack) {
    if (j.d.trafficRevertedAt !== null) restores.push(j.d.trafficRevertedAt - (j.d.firstTrafficAt ?? j.d.startedAt));
  }
  let incidents = 0;
  let unresolved = 0;
  for (const i of p.incidents) {
    if (i.openedAt < window.since || i.openedAt >= window.until) continue;
    if (i.resolvedAt === null) unresolved++;
    else {
      incidents++;
      restores.push(i.resolvedAt - i.openedAt);
    }
  }
  sortedAsc(restores);
  const restoreMedianS = seconds(medianSorted(restores));

  const reverts = sortedAsc(rolledBack.flatMap((j) => (j.d.revertMs === null ? [] : [j.d.revertMs / 1000])));
  const histogram = [...ROLLBACK_TIME_BOUNDS_S, null].map((leS, i) => ({
    leS,
    count: reverts.filter((s) => (leS === null || s <= leS) && (i === 0 || s > ROLLBACK_TIME_BOUNDS_S[i - 1]!)).length,
  }));

  const leadMedianS = seconds(medianSorted(leads));
  return {
    window: { since: new Date(window.since).toISOString(), until: new Date(window.until).toISOString() },
    filter,
    tiers: { version: tiers.version, year: tiers.year },
    deployments: {
      count: deployments.length,
      succeeded: deployments.length - rolledBack.length,
      rolledBack: rolledBack.length,
    },
    deploymentFrequency: {
      perDay,
      medianDeployDaysPerWeek: median(weeks),
      tier: tierAtLeast(perDay, tiers.deploymentsPerDay),
      counts: { deployments: deployments.length, days, deployDays: deployDays.size, weeks: weeks.length },
    },
    leadTime: {
      medianS: leadMedianS,
      p90S: seconds(quantileSorted(leads, 0.9)),
      tier: tierBelow(leadMedianS, tiers.leadTimeS),
      counts: { commits: leads.length, withoutCommitTime },
    },
    changeFailureRate: {
      value: cfr,
      tier: tierBelow(cfr, tiers.changeFailureRate, true),
      counts: {
        deployments: deployments.length,
        failed,
        rolledBack: rolledBack.length,
        followedByIncident: followed.length,
      },
    },
    timeToRestore: {
      medianS: restoreMedianS,
      p90S: seconds(quantileSorted(restores, 0.9)),
      tier: tierBelow(restoreMedianS, tiers.timeToRestoreS),
      counts: { rollbacks: restores.length - incidents, incidents, unresolvedIncidents: unresolved },
    },
    progressive: share(deployments, (d) => d.progressive),
    rehearsed: share(deployments, (d) => d.rehearsed),
    behindFlags: share(deployments, (d) => d.behindFlag),
    rollbackTime: {
      count: reverts.length,
      medianS: medianSorted(reverts),
      p90S: quantileSorted(reverts, 0.9),
      maxS: reverts.at(-1) ?? null,
      histogram,
    },
  };
}

/**
 * The four keys of `window` (see docs/analytics.md for each definition). `history` may hold more
 * than the window: deployments before it (a commit shipped earlier is not shipped again) and the
 * next deployment after it (an incident before it still fails the window's last deployment).
 */
export function fourKeys(
  history: History,
  window: Window,
  filter: KeysFilter,
  tiers: TierThresholds = DEFAULT_TIERS,
): FourKeys {
  return aggregate(prepare(history, filter), window, filter, tiers);
}

/** The four keys of each day, week or month of `window` (clipped at its ends), and of the whole. */
export function fourKeysByBucket(
  history: History,
  window: Window,
  filter: KeysFilter,
  bucketing: Bucketing,
  tiers: TierThresholds = DEFAULT_TIERS,
): { total: FourKeys; buckets: FourKeys[] } {
  const p = prepare(history, filter);
  return {
    total: aggregate(p, window, filter, tiers),
    buckets: bucketsOf(window, bucketing).map((w) => aggregate(p, w, filter, tiers)),
  };
}
