import { useEffect, useState } from 'react';
import { trendCharts, type FourKeys } from '../../../src/views/index.ts';
import { api, request } from '../api.ts';
import { ReleaseStoryboard } from '../components/ReleaseStoryboard.tsx';

const DAY = 86_400_000;
type Dora = FourKeys & { buckets?: FourKeys[] };
interface Catalogue {
  services: { service: string; team: string | null }[];
  teams: string[];
  environments: string[];
}

const dur = (s: number | null) =>
  s === null
    ? 'n/a'
    : s < 3600
      ? `${(s / 60).toFixed(1)} min`
      : s < 2 * 86_400
        ? `${(s / 3600).toFixed(1)} h`
        : `${(s / 86_400).toFixed(1)} d`;
const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)}%`);
const share = (s: FourKeys['progressive']) =>
  s.available ? `${pct(s.share)} (${s.counts.yes}/${s.counts.known})` : 'not available';

/** The four keys of the window with their tiers and the counts they came from. */
function KeysTable({ data }: { data: Dora }) {
  const r = data.rollbackTime;
  return (
    <table className="keys" data-testid="analytics-keys">
      <thead>
        <tr>
          <th>Key</th>
          <th>Six months</th>
          <th>Tier ({data.tiers.version})</th>
          <th>From</th>
        </tr>
      </thead>
      <tbody>
        <tr>
          <td>Deployment frequency</td>
          <td>
            {data.deploymentFrequency.perDay.toFixed(2)}/day, median{' '}
            {data.deploymentFrequency.medianDeployDaysPerWeek ?? 'n/a'} deploy days/week
          </td>
          <td>{data.deploymentFrequency.tier ?? '—'}</td>
          <td>
            {data.deployments.count} deployments ({data.deployments.rolledBack} rolled back)
          </td>
        </tr>
        <tr>
          <td>Lead time (median)</td>
          <td>
            {dur(data.leadTime.medianS)}, p90 {dur(data.leadTime.p90S)}
          </td>
          <td>{data.leadTime.tier ?? '—'}</td>
          <td>{data.leadTime.counts.commits} commits</td>
        </tr>
        <tr>
          <td>Change failure rate</td>
          <td>{pct(data.changeFailureRate.value)}</td>
          <td>{data.changeFailureRate.tier ?? '—'}</td>
          <td>
            {data.changeFailureRate.counts.failed}/{data.changeFailureRate.counts.deployments} failed
          </td>
        </tr>
        <tr>
          <td>Time to restore (median)</td>
          <td>
            {dur(data.timeToRestore.medianS)}, p90 {dur(data.timeToRestore.p90S)}
          </td>
          <td>{data.timeToRestore.tier ?? '—'}</td>
          <td>
            {data.timeToRestore.counts.rollbacks} rollbacks, {data.timeToRestore.counts.incidents} incidents
          </td>
        </tr>
        <tr>
          <td>Progressive · rehearsed · behind flags</td>
          <td colSpan={3}>
            {share(data.progressive)} · {share(data.rehearsed)} · {share(data.behindFlags)}
          </td>
        </tr>
        <tr>
          <td>Rollback time (detection → traffic reverted)</td>
          <td colSpan={3}>
            {r.count === 0
              ? 'no rollbacks by Sluice'
              : `median ${r.medianS} s, p90 ${r.p90S} s, max ${r.maxS} s over ${r.count}`}
          </td>
        </tr>
      </tbody>
    </table>
  );
}

/**
 * Six-month trends of the four keys per week, for all services, one service or one team, in one
 * environment; and a release's storyboard with its documents.
 */
export function AnalyticsPage() {
  const [catalogue, setCatalogue] = useState<Catalogue>({ services: [], teams: [], environments: [] });
  const [running, setRunning] = useState<string[]>([]);
  const [environment, setEnvironment] = useState('production');
  const [service, setService] = useState('');
  const [team, setTeam] = useState('');
  const [data, setData] = useState<Dora | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    request<Catalogue>('GET', '/api/analytics/catalogue', undefined, abort.signal).then(setCatalogue, () => undefined);
    api.services(abort.signal).then(
      (list) => setRunning(list.map((s) => s.service)),
      () => undefined,
    );
    return () => abort.abort();
  }, []);
  useEffect(() => {
    const abort = new AbortController();
    const until = Date.now();
    const q = new URLSearchParams({
      since: new Date(until - 182 * DAY).toISOString(),
      until: new Date(until).toISOString(),
      bucket: 'week',
      env: environment,
      ...(service && { service }),
      ...(team && { team }),
    });
    request<Dora>('GET', `/api/analytics/dora?${q.toString()}`, undefined, abort.signal).then(
      (d) => {
        setData(d);
        setError(null);
      },
      (e: Error) => {
        if (!abort.signal.aborted) setError(e.message);
      },
    );
    return () => abort.abort();
  }, [service, team, environment]);
  const charts = data?.buckets ? trendCharts(data.buckets) : [];
  const environments = catalogue.environments.includes(environment)
    ? catalogue.environments
    : [environment, ...catalogue.environments];
  // The storyboard follows the service chosen: its release in this environment (NAME--ENV), or NAME itself.
  const storyService =
    service === ''
      ? ''
      : (running.find((s) => s === `${service}--${environment}`) ??
        (environment === 'production' ? running.find((s) => s === service) : undefined) ??
        '');
  return (
    <section aria-labelledby="analytics-title">
      <h1 id="analytics-title">Analytics: the last six months</h1>
      <label>
        Environment{' '}
        <select value={environment} onChange={(e) => setEnvironment(e.target.value)} data-testid="analytics-env">
          {environments.map((x) => (
            <option key={x} value={x}>
              {x}
            </option>
          ))}
        </select>
      </label>{' '}
      <label>
        Service{' '}
        <select
          value={service}
          onChange={(e) => {
            setService(e.target.value);
            setTeam('');
          }}
          data-testid="analytics-service"
        >
          <option value="">all services</option>
          {catalogue.services.map((s) => (
            <option key={s.service} value={s.service}>
              {s.service}
            </option>
          ))}
        </select>
      </label>{' '}
      <label>
        Team{' '}
        <select
          value={team}
          onChange={(e) => {
            setTeam(e.target.value);
            setService('');
          }}
          data-testid="analytics-team"
        >
          <option value="">all teams</option>
          {catalogue.teams.map((x) => (
            <option key={x} value={x}>
              {x}
            </option>
          ))}
        </select>
      </label>
      {error && (
        <p className="error" role="alert">
          Could not load the analytics: {error}
        </p>
      )}
      {data && <KeysTable data={data} />}
      {/* The charts are the weekly report's SVG, made from numbers by core/analytics/svg-chart.ts (every text escaped). */}
      <div className="charts" data-testid="analytics-charts">
        {charts.map((c) => (
          <div key={c.id} dangerouslySetInnerHTML={{ __html: c.svg }} />
        ))}
      </div>
      <ReleaseStoryboard services={running} initial={storyService} />
    </section>
  );
}
