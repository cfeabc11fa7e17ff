import { request } from '../api.ts';
import { FlagExposureChart } from '../components/FlagExposureChart.tsx';
import { FlagPaused, type FlagPausedView } from '../components/FlagPaused.tsx';
import { FlagVariantsChart } from '../components/FlagVariantsChart.tsx';
import { useLive } from '../live.ts';

/** A flag as GET /api/flags shows it (src/flags/flag-views.ts). */
interface FlagRuleView {
  name: string;
  percentNow: number;
  serve: string | { weights: { variant: string; weight: number }[] };
  when: { attribute: string; operator: string; values: string[] }[];
  segments: string[];
}
interface FlagView {
  name: string;
  type: string;
  owner: string | null;
  description: string | null;
  archived: boolean;
  defaultVariant: string;
  updatedAt: string;
  updatedBy: string;
  staleness: { stale: boolean; ageDays: number; lifetimeDays: number | null; overdueDays: number };
  contract: { service: string; environment: string; evidence: 'proxy' | 'sdk'; onFail: 'off' | 'pause' } | null;
  environments: Record<
    string,
    { enabled: boolean; protected: boolean; paused: FlagPausedView | null; rules: FlagRuleView[] }
  >;
}

const served = (r: FlagRuleView) =>
  typeof r.serve === 'string' ? r.serve : r.serve.weights.map((w) => `${w.variant} ${w.weight}`).join(' / ');
const conditions = (r: FlagRuleView) =>
  [
    ...r.when.map((c) => `${c.attribute} ${c.operator} ${c.values.join(', ')}`),
    ...r.segments.map((s) => `segment ${s}`),
  ].join(' and ') || 'everyone';

/**
 * Every flag: per environment its kill switch, a pause by its contract (with Resume), rules with
 * exposure now, and stale badges; reloaded on flag events.
 */
export function FlagsPage() {
  const { data, error } = useLive(
    (signal) => request<{ flags: FlagView[] }>('GET', '/api/flags', undefined, signal).then((r) => r.flags),
    (e) => e.service === '_flags',
    [],
    300,
  );
  return (
    <section aria-labelledby="flags-title">
      <h1 id="flags-title">Flags</h1>
      {error && (
        <p className="error" role="alert">
          Could not load the flags: {error}
        </p>
      )}
      {data === null && !error && <p className="muted">Loading…</p>}
      {data?.length === 0 && (
        <p className="panel">
          No flags yet. Apply one: <code>sluice apply -f flag.yaml</code> (kind: FeatureFlag)
        </p>
      )}
      <ul className="cards" data-testid="flags">
        {data?.map((f) => (
          <li key={f.name} className="card" data-testid={`flag-${f.name}`}>
            <div className="card-head">
              <h2>{f.name}</h2>
              <span className="badge">{f.type}</span>
              {f.archived && <span className="badge">archived</span>}
              {f.staleness.stale && (
                <span
                  className="badge badge-stale"
                  title={`${f.staleness.ageDays} days old; expected ${f.staleness.lifetimeDays}`}
                >
                  stale {f.staleness.overdueDays}d
                </span>
              )}
            </div>
            {f.description && <p className="muted">{f.description}</p>}
            <dl className="facts">
              <div>
                <dt>owner</dt>
                <dd>{f.owner ?? '—'}</dd>
              </div>
              <div>
                <dt>default</dt>
                <dd>{f.defaultVariant}</dd>
              </div>
              <div>
                <dt>changed</dt>
                <dd>
                  {f.updatedAt.slice(0, 16).replace('T', ' ')} by {f.updatedBy}
                </dd>
              </div>
            </dl>
            {Object.entries(f.environments).map(([env, e]) => (
              <div key={env} data-testid={`flag-${f.name}-${env}`}>
                <h3>
                  {env}{' '}
                  {e.enabled ? (
                    <span className="badge">on</span>
                  ) : (
                    <span className="badge badge-off">off (kill switch)</span>
                  )}
                  {e.protected && <span className="badge">protected</span>}
                  {e.enabled && e.paused && <span className="badge badge-paused">paused</span>}
                </h3>
                {e.enabled && e.paused && (
                  <FlagPaused flag={f.name} environment={env} paused={e.paused} isProtected={e.protected} />
                )}
                <ol className="muted">
                  {e.rules.map((r) => (
                    <li key={r.name}>
                      <strong>{r.name}</strong>: {conditions(r)}
                      {r.percentNow < 100 ? `, ${r.percentNow}%` : ''} → {served(r)}
                    </li>
                  ))}
                  {e.rules.length === 0 && <li>no rules: {f.defaultVariant} for everyone</li>}
                </ol>
              </div>
            ))}
            <FlagExposureChart name={f.name} />
            <FlagVariantsChart name={f.name} evidence={f.contract?.evidence ?? 'proxy'} />
          </li>
        ))}
      </ul>
    </section>
  );
}
