import { useMemo } from 'react';
import { api, request, type FlagChange, type ServiceEvent } from '../api.ts';
import type { ChartMark } from '../components/chart-marks.ts';
import { HealthBadge, PhaseBadge } from '../components/Badges.tsx';
import { Controls } from '../components/Controls.tsx';
import { EnvironmentPanel } from '../components/EnvironmentPanel.tsx';
import { History } from '../components/History.tsx';
import { RollbackLog } from '../components/RollbackLog.tsx';
import { RuleChart } from '../components/RuleChart.tsx';
import { SpecView } from '../components/SpecView.tsx';
import { Timeline } from '../components/Timeline.tsx';
import { WeightBar } from '../components/WeightBar.tsx';
import { clock } from '../format.ts';
import { useLive } from '../live.ts';
import { ACTIVE } from '../phase.ts';
import { Link } from '../router.tsx';
import { useVerdictSeries } from '../series.ts';

const releaseChange = (e: ServiceEvent) => e.type.startsWith('release.') || e.type.startsWith('rollback.');

/** A flag change as a chart mark: "new-checkout 50%", "new-checkout off". */
function flagMark(c: FlagChange): ChartMark {
  const what: Record<FlagChange['type'], string> = {
    'flag.applied': 'applied',
    'flag.percentSet': `${c.percent}%`,
    'flag.enabled': 'on',
    'flag.disabled': 'off',
    'flag.rolledBack': 'rolled back',
    'flag.paused': 'paused',
    'flag.resumed': 'resumed',
    'flag.archived': 'archived',
    'segment.applied': 'segment',
  };
  return {
    at: c.at,
    label: `${c.flag} ${what[c.type]}`,
    title: c.text,
    bad: c.type === 'flag.rolledBack' || c.type === 'flag.paused',
  };
}

/** Every flag's changes (a service spec names no flags, so all are marked), reloaded on flag events. */
function useFlagMarks(): ChartMark[] {
  const changes = useLive(
    (signal) => request<{ changes: FlagChange[] }>('GET', '/api/flags/changes', undefined, signal),
    (e) => e.service === '_flags',
    [],
    500,
  );
  return useMemo(() => changes.data?.changes.map(flagMark) ?? [], [changes.data]);
}

/** One service: its release (timeline, traffic, charts, controls), its history and its spec. */
export function ServicePage({ name, releaseNumber }: { name: string; releaseNumber: number | null }) {
  const mine = (e: ServiceEvent) => e.service === name;
  const status = useLive((signal) => api.status(name, signal), mine, [name], 200);
  const history = useLive(
    (signal) => api.history(name, signal),
    (e) => mine(e) && releaseChange(e),
    [name],
    500,
  );
  const revisions = useLive(
    (signal) => api.revisions(name, signal),
    (e) => mine(e) && e.type === 'spec.applied',
    [name],
    500,
  );
  const s = status.data;
  const latest = s?.release?.number ?? null;
  const shown = releaseNumber ?? latest;
  const isLatest = shown !== null && shown === latest;
  const live = isLatest && s?.release !== null && s?.release !== undefined && ACTIVE.has(s.release.status);
  const timeline = useLive(
    (signal) => (shown === null ? Promise.resolve(null) : api.timeline(name, shown, signal)),
    (e) => isLatest && mine(e) && e.type !== 'analysis.evaluated',
    [name, shown, isLatest],
    250,
  );
  const { series, version, error: seriesError } = useVerdictSeries(name, shown, live);
  const t = timeline.data;
  const flagMarks = useFlagMarks();

  if (status.error && !s) {
    // An environment's service exists from its first release on; its first promotion waits here.
    return (
      <>
        <EnvironmentPanel service={name} />
        <section className="panel">
          <h1>{name}</h1>
          <p className={name.includes('--') ? 'muted' : 'error'} role="alert">
            {name.includes('--') ? `${name} has not been released to yet.` : status.error}
          </p>
          <p>
            <Link href="/">Back to the overview</Link>
          </p>
        </section>
      </>
    );
  }
  if (!s) return <p className="muted">Loading {name}…</p>;
  const release = t?.release ?? null;
  return (
    <article className="service" aria-labelledby="service-title">
      <div className="service-head">
        <h1 id="service-title">{name}</h1>
        <PhaseBadge phase={s.phase} />
        <HealthBadge status={s} />
      </div>
      <nav className="jump" aria-label="sections">
        <a href="#release">Release</a> <a href="#charts">Charts</a> <a href="#history">History</a>{' '}
        <a href="#spec">Spec</a>
      </nav>

      <EnvironmentPanel service={name} />
      <section id="release" className="panel" aria-labelledby="release-title">
        <h2 id="release-title">
          {release ? (
            <>
              Release #{release.number}: {release.fromVersion ?? '—'} → {release.toVersion}{' '}
              <span className={`badge outcome outcome-${release.status}`}>{release.status}</span>
            </>
          ) : (
            'No release yet'
          )}
        </h2>
        {!isLatest && latest !== null && (
          <p className="note">
            You are looking at an earlier release. <Link href={`/services/${name}`}>Show the latest (#{latest})</Link>
          </p>
        )}
        <Controls
          status={s}
          history={history.data}
          onDone={() => (status.reload(), timeline.reload(), history.reload())}
        />
        <h3>Traffic</h3>
        <WeightBar status={s} large />
        {s.step && (
          <p className="muted" data-testid="current-step">
            step {s.step.index + 1} of {s.step.total}
            {s.step.current ? ` · ${s.step.current}` : ''} · since {clock(s.step.startedAt)}
          </p>
        )}
        {s.release?.pause && ACTIVE.has(s.release.status) && (
          <p className="note">
            Paused: {s.release.pause.detail} ({s.release.pause.by})
          </p>
        )}
        {(s.problems ?? []).map((p) => (
          <p key={p.driver} className="error" data-testid={`problem-${p.driver}`}>
            {p.driver} failing since {clock(p.since)} ({p.operation}): {p.error}
          </p>
        ))}
        {s.waiting && (
          <p className="note" data-testid="waiting">
            {s.waiting.version} waits for its release window: {s.waiting.reason}
            {s.waiting.until ? ` — starts at ${clock(s.waiting.until)}` : ''} (asked by {s.waiting.by}; Abort cancels
            it)
          </p>
        )}
        {isLatest && s.lastRollback && s.lastRollback.release === s.release?.id && <RollbackLog log={s.lastRollback} />}
        {t && <Timeline timeline={t} />}
      </section>

      <section id="charts" className="panel" aria-labelledby="charts-title">
        <h2 id="charts-title">Rollback contract</h2>
        {seriesError && <p className="error">{seriesError}</p>}
        {series && series.rules.length === 0 && (
          <p className="muted">No verdicts yet: the contract is evaluated once the canary takes traffic.</p>
        )}
        <div className="charts">
          {series?.rules.map((r) => (
            <RuleChart
              key={`${series.release}:${r.rule}`}
              series={r}
              version={version}
              rule={t?.contract.rules.find((x) => x.name === r.rule)}
              verdict={isLatest ? s.verdicts.find((v) => v.rule === r.rule) : undefined}
              marks={flagMarks}
            />
          ))}
        </div>
      </section>

      <section id="history" className="panel" aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        {history.data ? (
          <History service={name} releases={history.data} selected={shown} />
        ) : (
          <p className="muted">Loading…</p>
        )}
      </section>

      <section id="spec" className="panel" aria-labelledby="spec-title">
        <h2 id="spec-title">Spec</h2>
        {revisions.data && (
          <SpecView service={name} revisions={revisions.data} current={s.canaryRevision ?? s.stableRevision} />
        )}
      </section>
    </article>
  );
}
