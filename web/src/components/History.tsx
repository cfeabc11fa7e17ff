import type { ReleaseView } from '../api.ts';
import { dateTime, duration } from '../format.ts';
import { Link } from '../router.tsx';
import { RollbackLog } from './RollbackLog.tsx';

/** Past releases, newest first, with their outcome and, for rollbacks, the rollback log. */
export function History({
  service,
  releases,
  selected,
}: {
  service: string;
  releases: ReleaseView[];
  selected: number | null;
}) {
  if (releases.length === 0) return <p className="muted">No releases yet.</p>;
  return (
    <ol className="history" data-testid="history">
      {releases.map((r) => (
        <li
          key={r.id}
          className={`release release-${r.status}`}
          aria-current={r.number === selected ? 'true' : undefined}
        >
          <div className="release-head">
            <Link
              href={`/services/${service}/releases/${r.number}`}
              aria-label={`release ${r.number}: show its timeline and charts`}
            >
              #{r.number}
            </Link>
            <span>
              {r.fromVersion ?? '—'} → <strong>{r.toVersion}</strong>
            </span>
            <span className={`badge outcome outcome-${r.status}`}>{r.status}</span>
            <span className="muted">{r.kind}</span>
            <span className="muted small">
              {dateTime(r.startedAt)} by {r.startedBy}
            </span>
            <span className="muted small">
              {r.durationMs === null ? 'in progress' : `took ${duration(r.durationMs)}`}
            </span>
          </div>
          {r.error && <p className="error">{r.error}</p>}
          {r.rollback && (
            <details open={r.number === selected || r === releases[0]}>
              <summary>Rollback log</summary>
              <RollbackLog log={r.rollback} />
            </details>
          )}
        </li>
      ))}
    </ol>
  );
}
