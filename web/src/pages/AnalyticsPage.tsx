import { useEffect, useState } from 'react';
import { trendCharts, type FourKeys, type GeneratedDocument } from '../../../src/views/index.ts';
import { api, request } from '../api.ts';

const DAY = 86_400_000;
type Dora = FourKeys & { buckets?: FourKeys[] };

const dur = (s: number | null) =>
  s === null
    ? 'n/a'
    : s < 3600
      ? `${(s / 60).toFixed(1)} min`
      : s < 2 * 86_400
        ? `${(s / 3600).toFixed(1)} h`
        : `${(s / 86_400).toFixed(1)} d`;
const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)}%`);

/** The frames of a release's storyboard and the document each opens (docs/documents.md). */
const FRAMES = [
  { frame: 'Plan', kind: 'plan' },
  { frame: 'Stage', kind: 'schedule' },
  { frame: 'Release', kind: 'comms' },
  { frame: 'Verify', kind: 'schedule' },
  { frame: 'Rollback', kind: 'rollback' },
  { frame: 'Retrospective', kind: 'retro' },
] as const;

/** A release's storyboard: one frame per stage, each opening its document, generated from the log. */
function Storyboard({ service }: { service: string }) {
  const [open, setOpen] = useState<{ frame: string; doc: GeneratedDocument } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const show = (frame: string, kind: string) => {
    request<GeneratedDocument>('GET', `/api/services/${service}/documents/${kind}`).then(
      (doc) => {
        setOpen({ frame, doc });
        setError(null);
      },
      (e: Error) => setError(e.message),
    );
  };
  return (
    <section className="panel" aria-labelledby="storyboard-title" data-testid="storyboard">
      <h2 id="storyboard-title">Release storyboard: {service}, last release</h2>
      <ol className="storyboard">
        {FRAMES.map((f) => (
          <li key={f.frame}>
            <button type="button" data-testid={`frame-${f.frame}`} onClick={() => show(f.frame, f.kind)}>
              {f.frame}
            </button>
          </li>
        ))}
      </ol>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {open && (
        <article data-testid="frame-document">
          <h3>
            {open.frame}: {open.doc.title}
          </h3>
          <p className="muted">
            generated from the log at sequence {open.doc.generatedFrom.seq}
            {open.doc.generatedFrom.hash ? `, chain hash ${open.doc.generatedFrom.hash.slice(0, 16)}…` : ''}
          </p>
          <pre className="document">{open.doc.markdown}</pre>
        </article>
      )}
    </section>
  );
}

/** Six-month trends of the four keys per week, for all services, one service or one team; and a release's storyboard. */
export function AnalyticsPage() {
  const [services, setServices] = useState<string[]>([]);
  const [service, setService] = useState('');
  const [data, setData] = useState<Dora | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    api.services(abort.signal).then(
      (list) => setServices(list.map((s) => s.service)),
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
      ...(service && { service }),
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
  }, [service]);
  const charts = data?.buckets ? trendCharts(data.buckets) : [];
  return (
    <section aria-labelledby="analytics-title">
      <h1 id="analytics-title">Analytics: the last six months</h1>
      <label>
        Service{' '}
        <select value={service} onChange={(e) => setService(e.target.value)} data-testid="analytics-service">
          <option value="">all services</option>
          {services.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      {error && (
        <p className="error" role="alert">
          Could not load the analytics: {error}
        </p>
      )}
      {data && (
        <table className="keys" data-testid="analytics-keys">
          <thead>
            <tr>
              <th>Key</th>
              <th>Six months</th>
              <th>Tier</th>
              <th>From</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <td>Deployment frequency</td>
              <td>{data.deploymentFrequency.perDay.toFixed(2)}/day</td>
              <td>{data.deploymentFrequency.tier ?? '—'}</td>
              <td>{data.deployments.count} deployments</td>
            </tr>
            <tr>
              <td>Lead time (median)</td>
              <td>{dur(data.leadTime.medianS)}</td>
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
              <td>{dur(data.timeToRestore.medianS)}</td>
              <td>{data.timeToRestore.tier ?? '—'}</td>
              <td>
                {data.timeToRestore.counts.rollbacks} rollbacks, {data.timeToRestore.counts.incidents} incidents
              </td>
            </tr>
          </tbody>
        </table>
      )}
      {/* The charts are the weekly report's SVG, made from numbers by core/analytics/svg-chart.ts (every text escaped). */}
      <div className="charts" data-testid="analytics-charts">
        {charts.map((c) => (
          <div key={c.id} dangerouslySetInnerHTML={{ __html: c.svg }} />
        ))}
      </div>
      {service && <Storyboard key={service} service={service} />}
    </section>
  );
}
