import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fourKeys, fourKeysByBucket } from './four-keys.ts';
import { DORA_2023 } from './tiers.ts';
import type { Commit, Deployment, History, Incident } from './types.ts';

const H = 3_600_000;
const DAY = 24 * H;
const T0 = Date.UTC(2026, 5, 1); // Monday 2026-06-01
const production = { environment: 'production' };

function deployment(id: string, finishedAt: number, o: Partial<Deployment> = {}): Deployment {
  return {
    id,
    service: 'checkout',
    environment: 'production',
    team: 'payments',
    version: id,
    startedAt: finishedAt - 20 * 60_000,
    finishedAt,
    result: 'success',
    firstTrafficAt: null,
    trafficRevertedAt: null,
    revertMs: null,
    commits: [],
    progressive: null,
    rehearsed: null,
    behindFlag: null,
    source: 'import',
    ...o,
  };
}
const commit = (sha: string, committedAt: number): Commit => ({ sha, service: 'checkout', committedAt, message: null });
const incident = (id: string, openedAt: number, resolvedAt: number | null): Incident => ({
  id,
  service: 'checkout',
  environment: 'production',
  openedAt,
  resolvedAt,
});
const week = { since: T0, until: T0 + 7 * DAY };

describe('the four keys on hand-made histories', () => {
  it('a rollback then an incident before the next deployment: one failed deployment, two restores', () => {
    const h: History = {
      deployments: [
        deployment('d0', T0 + 10 * H),
        deployment('d1', T0 + DAY + 10 * H, {
          result: 'rolledback',
          firstTrafficAt: T0 + DAY + 9 * H,
          trafficRevertedAt: T0 + DAY + 10 * H,
          revertMs: 800,
        }),
        deployment('d2', T0 + 2 * DAY + 10 * H),
      ],
      commits: [],
      incidents: [incident('i1', T0 + DAY + 11 * H, T0 + DAY + 11 * H + 40 * 60_000)],
    };
    const k = fourKeys(h, week, production);
    assert.equal(k.deployments.count, 3);
    assert.equal(
      k.changeFailureRate.counts.failed,
      1,
      'd1 fails once, though it was both rolled back and followed by the incident',
    );
    assert.equal(k.changeFailureRate.counts.rolledBack, 1);
    assert.equal(k.changeFailureRate.counts.followedByIncident, 1);
    assert.equal(k.changeFailureRate.value, 1 / 3);
    assert.equal(k.changeFailureRate.tier, 'low');
    // Restores: the rollback (1 h from first traffic to revert) and the incident (40 min).
    assert.deepEqual(k.timeToRestore.counts, { rollbacks: 1, incidents: 1, unresolvedIncidents: 0 });
    assert.equal(k.timeToRestore.medianS, (3600 + 2400) / 2);
    assert.equal(k.timeToRestore.p90S, 3600);
    assert.equal(k.timeToRestore.tier, 'elite');
    assert.equal(k.rollbackTime.count, 1);
    assert.equal(k.rollbackTime.medianS, 0.8);
    assert.deepEqual(
      k.rollbackTime.histogram.filter((b) => b.count > 0),
      [{ leS: 1, count: 1 }],
    );
  });

  it('an incident after the last deployment fails it; one before the next deployment finished fails the earlier one only', () => {
    const h: History = {
      deployments: [deployment('d0', T0 + 10 * H), deployment('d1', T0 + 3 * DAY)],
      commits: [],
      incidents: [incident('i1', T0 + 2 * DAY, T0 + 2 * DAY + H), incident('i2', T0 + 4 * DAY, null)],
    };
    const k = fourKeys(h, week, production);
    assert.equal(k.changeFailureRate.counts.followedByIncident, 2);
    assert.equal(k.changeFailureRate.value, 1);
    assert.deepEqual(k.timeToRestore.counts, { rollbacks: 0, incidents: 1, unresolvedIncidents: 1 });
    // An incident of another service or environment fails nothing.
    const other = fourKeys(
      {
        ...h,
        incidents: [
          { ...incident('i3', T0 + 2 * DAY, null), service: 'search' },
          { ...incident('i4', T0 + 2 * DAY, null), environment: 'staging' },
        ],
      },
      week,
      production,
    );
    assert.equal(other.changeFailureRate.counts.failed, 0);
  });

  it('an incident in a window without a deployment of its service still counts as a restore, alone or bucketed', () => {
    const h: History = {
      deployments: [deployment('d0', T0 + H), { ...deployment('s0', T0 + H), service: 'search', team: 'discovery' }],
      commits: [],
      incidents: [
        incident('i1', T0 + 3 * DAY, T0 + 3 * DAY + H),
        { ...incident('i2', T0 + 3 * DAY, null), service: 'search' },
      ],
    };
    const day = { since: T0 + 3 * DAY, until: T0 + 4 * DAY };
    for (const filter of [production, { ...production, service: 'checkout' }, { ...production, team: 'payments' }]) {
      const k = fourKeys(h, day, filter);
      assert.equal(k.deployments.count, 0);
      assert.equal(k.timeToRestore.medianS, 3600, JSON.stringify(filter));
      const alone = filter === production ? 1 : 0;
      assert.deepEqual(k.timeToRestore.counts, { rollbacks: 0, incidents: 1, unresolvedIncidents: alone });
      assert.deepEqual(fourKeysByBucket(h, week, filter, 'day').buckets[3]!.timeToRestore, k.timeToRestore);
    }
    // The store gives only the window's deployments (and the next ones): none here, and the incidents still count.
    assert.deepEqual(fourKeys({ ...h, deployments: [] }, day, production).timeToRestore.counts, {
      rollbacks: 0,
      incidents: 1,
      unresolvedIncidents: 1,
    });
    // A team's incidents are those of the services its deployments name, also from beyond the history given.
    assert.equal(fourKeys(h, day, { ...production, team: 'discovery' }).timeToRestore.counts.unresolvedIncidents, 1);
    const given = { ...h, deployments: [], teamServices: ['search'] };
    assert.equal(
      fourKeys(given, day, { ...production, team: 'discovery' }).timeToRestore.counts.unresolvedIncidents,
      1,
    );
    assert.equal(
      fourKeys({ ...h, deployments: [] }, day, { ...production, team: 'discovery' }).timeToRestore.counts
        .unresolvedIncidents,
      0,
    );
  });

  it('two deployments on one day: two deployments, one deploy day', () => {
    const h: History = {
      deployments: [deployment('a', T0 + 9 * H), deployment('b', T0 + 15 * H), deployment('c', T0 + 2 * DAY)],
      commits: [],
      incidents: [],
    };
    const k = fourKeys(h, week, production);
    assert.equal(k.deploymentFrequency.counts.deployments, 3);
    assert.equal(k.deploymentFrequency.counts.deployDays, 2);
    assert.equal(k.deploymentFrequency.perDay, 3 / 7);
    assert.equal(k.deploymentFrequency.medianDeployDaysPerWeek, 2);
    assert.equal(k.deploymentFrequency.tier, 'high');
    // A rest shorter than a week at the window's end is not a week: 10 days are one week, whose median is 2 (not (2, 0) → 1).
    const tenDays = fourKeys(h, { since: T0, until: T0 + 10 * DAY }, production).deploymentFrequency;
    assert.equal(tenDays.medianDeployDaysPerWeek, 2);
    assert.equal(tenDays.counts.weeks, 1);
    // A window shorter than a week is its own block.
    assert.equal(
      fourKeys(h, { since: T0, until: T0 + DAY }, production).deploymentFrequency.medianDeployDaysPerWeek,
      1,
    );
    // Over two weeks with nothing in the second, the median of (2, 0) is 1.
    assert.equal(
      fourKeys(h, { since: T0, until: T0 + 14 * DAY }, production).deploymentFrequency.medianDeployDaysPerWeek,
      1,
    );
  });

  it('a commit shipped twice counts once, at the first successful deployment that shipped it', () => {
    const h: History = {
      deployments: [
        deployment('old', T0 - DAY, { commits: ['a'] }),
        deployment('failed', T0 + H, { commits: ['b', 'c'], result: 'rolledback', trafficRevertedAt: T0 + H }),
        deployment('fixed', T0 + 5 * H, { commits: ['a', 'b', 'c', 'x'] }),
        deployment('again', T0 + 2 * DAY, { commits: ['b'] }),
      ],
      commits: [commit('a', T0 - 2 * DAY), commit('b', T0 - 3 * H), commit('c', T0 - H)],
      incidents: [],
    };
    const k = fourKeys(h, week, production);
    // a shipped before the window; b and c first shipped by `fixed` (the rolled-back one does not count); x has no commit time.
    assert.deepEqual(k.leadTime.counts, { commits: 2, withoutCommitTime: 1 });
    assert.equal(k.leadTime.medianS, (8 * 3600 + 6 * 3600) / 2);
    assert.equal(k.leadTime.p90S, 8 * 3600);
    assert.equal(k.leadTime.tier, 'elite');
  });

  it('an empty window has counts of zero and no tier where there is nothing to rate', () => {
    const k = fourKeys({ deployments: [], commits: [], incidents: [] }, week, production);
    assert.equal(k.deployments.count, 0);
    assert.equal(k.deploymentFrequency.tier, 'low');
    assert.equal(k.leadTime.medianS, null);
    assert.equal(k.leadTime.tier, null);
    assert.equal(k.changeFailureRate.value, null);
    assert.equal(k.timeToRestore.tier, null);
    assert.deepEqual(k.rehearsed, { share: null, available: false, counts: { known: 0, yes: 0 } });
  });

  it('filters by environment, service and team; shares count only deployments that know the flag', () => {
    const h: History = {
      deployments: [
        deployment('a', T0 + H, { progressive: true, behindFlag: true }),
        deployment('b', T0 + 2 * H, { progressive: false }),
        deployment('c', T0 + 3 * H, { environment: 'staging', progressive: true }),
        deployment('d', T0 + 4 * H, { service: 'search', team: 'discovery' }),
      ],
      commits: [],
      incidents: [],
    };
    assert.equal(fourKeys(h, week, production).deployments.count, 3);
    assert.equal(fourKeys(h, week, { environment: 'staging' }).deployments.count, 1);
    assert.equal(fourKeys(h, week, { environment: 'production', team: 'discovery' }).deployments.count, 1);
    const k = fourKeys(h, week, { environment: 'production', service: 'checkout' });
    assert.deepEqual(k.progressive, { share: 0.5, available: true, counts: { known: 2, yes: 1 } });
    assert.deepEqual(k.behindFlags.counts, { known: 1, yes: 1 });
  });

  it('tiers follow the versioned thresholds at their edges', () => {
    const daily = {
      deployments: Array.from({ length: 7 }, (_, i) => deployment(`d${i}`, T0 + i * DAY + H)),
      commits: [],
      incidents: [],
    };
    const k = fourKeys(daily, week, production);
    assert.equal(k.deploymentFrequency.perDay, 1);
    assert.equal(k.deploymentFrequency.tier, 'elite');
    assert.deepEqual(k.tiers, { version: DORA_2023.version, year: 2023 });
    const one = {
      deployments: Array.from({ length: 20 }, (_, i) =>
        deployment(`d${i}`, T0 + i * H, {
          result: i === 0 ? ('rolledback' as const) : ('success' as const),
          trafficRevertedAt: T0,
        }),
      ),
      commits: [],
      incidents: [],
    };
    assert.equal(fourKeys(one, week, production).changeFailureRate.value, 0.05);
    assert.equal(fourKeys(one, week, production).changeFailureRate.tier, 'elite', '5% is still elite');
  });

  it('weekly buckets start on Monday UTC and are clipped to the window; monthly buckets follow the calendar', () => {
    const h: History = {
      deployments: [deployment('a', T0 + H), deployment('b', T0 + 8 * DAY), deployment('c', T0 + 9 * DAY)],
      commits: [],
      incidents: [],
    };
    const { total, buckets } = fourKeysByBucket(h, { since: T0 + 2 * DAY, until: T0 + 14 * DAY }, production, 'week');
    assert.deepEqual(
      buckets.map((b) => [b.window.since.slice(0, 10), b.window.until.slice(0, 10), b.deployments.count]),
      [
        ['2026-06-03', '2026-06-08', 0],
        ['2026-06-08', '2026-06-15', 2],
      ],
    );
    assert.equal(total.deployments.count, 2);
    const months = fourKeysByBucket(
      h,
      { since: Date.UTC(2026, 4, 20), until: Date.UTC(2026, 6, 2) },
      production,
      'month',
    ).buckets;
    assert.deepEqual(
      months.map((b) => b.window.since.slice(0, 10)),
      ['2026-05-20', '2026-06-01', '2026-07-01'],
    );
    assert.deepEqual(
      months.map((b) => b.deployments.count),
      [0, 3, 0],
    );
  });
});
