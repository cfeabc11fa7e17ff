import { useEffect, useState } from 'react';
import type { Frame, GeneratedDocument, ReleaseView, Storyboard } from '../../../src/views/index.ts';
import { api, request } from '../api.ts';

/** The documents of a release (and the service's runbook), each written from the log on request. */
const DOCUMENTS = [
  { kind: 'plan', label: 'Plan' },
  { kind: 'schedule', label: 'Schedule' },
  { kind: 'rollback', label: 'Rollback log' },
  { kind: 'retro', label: 'Retrospective' },
  { kind: 'comms', label: 'Comms' },
  { kind: 'runbook', label: 'Runbook' },
] as const;

const MARK = { true: '✓', false: '✗', null: '–' } as const;

/**
 * A release's storyboard: Plan, Stage, Release, Verify and Rollback frames, each with its status and,
 * opened, its checklist from the log and the document it leads to; and every document of the release.
 */
export function ReleaseStoryboard({ services, initial }: { services: string[]; initial: string }) {
  const [service, setService] = useState(initial);
  const [releases, setReleases] = useState<ReleaseView[]>([]);
  const [release, setRelease] = useState<number | null>(null);
  const [board, setBoard] = useState<Storyboard | null>(null);
  const [open, setOpen] = useState<{ title: string; frame: Frame | null; doc: GeneratedDocument } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setService(initial), [initial]);
  useEffect(() => {
    setReleases([]);
    setRelease(null);
    setOpen(null);
    if (!service) return;
    const abort = new AbortController();
    api.history(service, abort.signal).then(
      (list) => setReleases(list),
      (e: Error) => !abort.signal.aborted && setError(e.message),
    );
    return () => abort.abort();
  }, [service]);
  useEffect(() => {
    setBoard(null);
    setOpen(null);
    if (!service) return;
    const abort = new AbortController();
    const q = release === null ? '' : `?release=${release}`;
    request<Storyboard>('GET', `/api/services/${service}/storyboard${q}`, undefined, abort.signal).then(
      (b) => {
        setBoard(b);
        setError(null);
      },
      (e: Error) => !abort.signal.aborted && setError(e.message),
    );
    return () => abort.abort();
  }, [service, release]);
  const show = (title: string, frame: Frame | null, kind: string) => {
    const q = kind === 'runbook' || board === null ? '' : `?release=${board.release}`;
    request<GeneratedDocument>('GET', `/api/services/${service}/documents/${kind}${q}`).then(
      (doc) => {
        setOpen({ title, frame, doc });
        setError(null);
      },
      (e: Error) => setError(e.message),
    );
  };
  return (
    <section className="panel" aria-labelledby="storyboard-title" data-testid="storyboard">
      <h2 id="storyboard-title">Release storyboard</h2>
      <label>
        Service{' '}
        <select value={service} onChange={(e) => setService(e.target.value)} data-testid="storyboard-service">
          <option value="">choose a service</option>
          {services.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>{' '}
      <label>
        Release{' '}
        <select
          value={release ?? ''}
          onChange={(e) => setRelease(e.target.value === '' ? null : Number(e.target.value))}
          data-testid="storyboard-release"
        >
          <option value="">the last one</option>
          {releases.map((r) => (
            <option key={r.number} value={r.number}>
              #{r.number} {r.toVersion} ({r.status})
            </option>
          ))}
        </select>
      </label>
      {board && (
        <>
          <p className="muted" data-testid="storyboard-release-line">
            {board.service} release {board.release}: {board.version}, {board.status}
          </p>
          <ol className="storyboard">
            {board.frames.map((f) => (
              <li key={f.frame}>
                <button
                  type="button"
                  className={`frame frame-${f.status}`}
                  data-testid={`frame-${f.frame}`}
                  data-status={f.status}
                  title={f.status}
                  onClick={() => show(f.frame, f, f.artifact)}
                >
                  {f.frame} <span className="muted">{f.status}</span>
                </button>
              </li>
            ))}
          </ol>
          <p className="documents">
            Documents:{' '}
            {DOCUMENTS.map((d) => (
              <button
                key={d.kind}
                type="button"
                data-testid={`doc-${d.kind}`}
                onClick={() => show(d.label, null, d.kind)}
              >
                {d.label}
              </button>
            ))}
          </p>
        </>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {open && (
        <article data-testid="frame-document">
          <h3>
            {open.title}: {open.doc.title}
          </h3>
          {open.frame && (
            <ul className="checklist" data-testid="frame-checklist">
              {open.frame.checklist.map((c) => (
                <li key={c.item} data-done={String(c.done)}>
                  {MARK[String(c.done) as keyof typeof MARK]} <strong>{c.item}</strong>: {c.detail}
                </li>
              ))}
            </ul>
          )}
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
