import { api } from '../api.ts';
import { HealthBadge, PhaseBadge } from '../components/Badges.tsx';
import { WeightBar } from '../components/WeightBar.tsx';
import { useLive } from '../live.ts';
import { byTrouble } from '../phase.ts';
import { Link } from '../router.tsx';

/** Every service, trouble first; reloaded when the event stream says something changed. */
export function Overview() {
  const { data, error } = useLive(
    (signal) => api.services(signal),
    () => true,
    [],
    300,
  );
  const services = data ? [...data].sort(byTrouble) : null;
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Services</h1>
      {error && (
        <p className="error" role="alert">
          Could not load the services: {error}
        </p>
      )}
      {services === null && !error && <p className="muted">Loading…</p>}
      {services?.length === 0 && (
        <p className="panel">
          No services yet. Apply a spec: <code>sluice apply -f service.yaml</code>
        </p>
      )}
      <ul className="cards" data-testid="services">
        {services?.map((s) => (
          <li key={s.service} className={`card card-${s.phase}`} data-testid={`service-${s.service}`}>
            <div className="card-head">
              <h2>
                <Link href={`/services/${s.service}`}>{s.service}</Link>
              </h2>
              <PhaseBadge phase={s.phase} />
              <HealthBadge status={s} />
            </div>
            <dl className="facts">
              <div>
                <dt>stable</dt>
                <dd>{s.stableVersion ?? '—'}</dd>
              </div>
              <div>
                <dt>canary</dt>
                <dd>{s.canaryVersion ?? '—'}</dd>
              </div>
              {s.step && (
                <div>
                  <dt>step</dt>
                  <dd>
                    {s.step.index + 1} / {s.step.total}
                    {s.step.current ? ` · ${s.step.current}` : ''}
                  </dd>
                </div>
              )}
            </dl>
            <WeightBar status={s} />
            {(s.phase === 'RolledBack' || s.phase === 'Aborted') && s.lastRollback && (
              <p className="trigger">
                {s.phase === 'RolledBack' ? 'rolled back' : 'aborted'} by <strong>{s.lastRollback.trigger}</strong>:{' '}
                {s.lastRollback.reason}
              </p>
            )}
            {s.degraded && <p className="trigger">{s.degraded}</p>}
            {(s.problems ?? []).map((p) => (
              <p key={p.driver} className="trigger">
                {p.driver} failing: {p.error}
              </p>
            ))}
            {s.waiting && (
              <p className="trigger">
                {s.waiting.version} waits for its release window: {s.waiting.reason}
              </p>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
