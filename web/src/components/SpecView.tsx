import { useEffect, useState } from 'react';
import { api, type Revision, type RevisionSummary } from '../api.ts';
import { diffLines } from '../diff.ts';
import { dateTime } from '../format.ts';

function useRevision(service: string, key: string | null): Revision | null {
  const [rev, setRev] = useState<Revision | null>(null);
  useEffect(() => {
    setRev(null);
    if (key === null) return;
    const ctl = new AbortController();
    api.revision(service, key, ctl.signal).then(setRev, () => {});
    return () => ctl.abort();
  }, [service, key]);
  return rev;
}

/** The applied spec of a revision, and what changed from another one. */
export function SpecView({
  service,
  revisions,
  current,
}: {
  service: string;
  revisions: RevisionSummary[];
  current: string | null;
}) {
  const newest = revisions.at(-1)?.key ?? null;
  const [toKey, setTo] = useState<string | null>(current ?? newest);
  const toIndex = revisions.findIndex((r) => r.key === toKey);
  const [fromKey, setFrom] = useState<string | null>(toIndex > 0 ? revisions[toIndex - 1]!.key : null);
  useEffect(() => {
    const key = current ?? newest;
    setTo(key);
    const i = revisions.findIndex((r) => r.key === key);
    setFrom(i > 0 ? revisions[i - 1]!.key : null);
  }, [current, newest]);
  const to = useRevision(service, toKey);
  const from = useRevision(service, fromKey);
  const pick = (label: string, value: string | null, set: (k: string | null) => void) => (
    <label className="field inline">
      <span>{label}</span>
      <select value={value ?? ''} onChange={(e) => set(e.target.value || null)}>
        <option value="">(none)</option>
        {revisions.map((r) => (
          <option key={r.key} value={r.key}>
            revision {r.key} · {r.version} · {dateTime(r.createdAt)}
          </option>
        ))}
      </select>
    </label>
  );
  const lines = to && from ? diffLines(from.yaml, to.yaml) : null;
  return (
    <div className="spec">
      <div className="spec-pick">
        {pick('previous', fromKey, setFrom)}
        {pick('current', toKey, setTo)}
      </div>
      {to && (
        <p className="muted small">
          revision {to.key} applied by {to.createdBy} from {to.file ?? 'the API'}
        </p>
      )}
      {lines ? (
        <pre className="diff" data-testid="spec-diff" aria-label={`changes from revision ${fromKey} to ${toKey}`}>
          {lines.map((l, i) => (
            <div key={i} className={`dl dl-${l.kind}`}>
              <span aria-hidden="true">{l.kind === 'added' ? '+ ' : l.kind === 'removed' ? '- ' : '  '}</span>
              {l.kind !== 'same' && <span className="sr-only">{l.kind}: </span>}
              {l.text}
            </div>
          ))}
        </pre>
      ) : to ? (
        <pre className="diff">{to.yaml}</pre>
      ) : (
        <p className="muted">Loading…</p>
      )}
    </div>
  );
}
