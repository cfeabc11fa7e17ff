import { useState } from 'react';
import type { ReleaseTimeline } from '../api.ts';
import { activityLine, clock, type Versions } from '../format.ts';

const MARK = { done: '✓', current: '▶', next: '○' } as const;

/** The release's steps (done, current, next) and who did what, in order. */
export function Timeline({ timeline }: { timeline: ReleaseTimeline }) {
  const [all, setAll] = useState(false);
  const r = timeline.release;
  const versions: Versions = {
    [r.toRevision]: r.toVersion,
    ...(r.fromRevision !== null && r.fromVersion !== null && { [r.fromRevision]: r.fromVersion }),
  };
  const lines = timeline.activity.flatMap((e) => {
    const text = activityLine(e, versions);
    return text === null ? [] : [{ e, text }];
  });
  // Newest first: what just happened is what people look for.
  const shown = (all ? lines : lines.slice(-40)).reverse();
  return (
    <div className="timeline">
      <ol className="steps" aria-label="steps" data-testid="steps">
        {timeline.steps.map((s) => (
          <li
            key={s.index}
            className={`step step-${s.state}`}
            aria-current={s.state === 'current' ? 'step' : undefined}
          >
            <span className="step-mark" aria-hidden="true">
              {MARK[s.state]}
            </span>
            <span className="step-name">
              {s.index + 1}. {s.description}
            </span>
            <span className="muted small">{s.state === 'next' ? 'next' : s.startedAt ? clock(s.startedAt) : ''}</span>
          </li>
        ))}
      </ol>
      <h3>
        Activity <span className="muted small">newest first</span>
      </h3>
      {lines.length > shown.length && (
        <button type="button" className="link" onClick={() => setAll(true)}>
          Show all {lines.length} entries
        </button>
      )}
      <ol className="activity" data-testid="activity">
        {shown.map(({ e, text }) => (
          <li key={e.seq} className={`act act-${e.type.replace('.', '-')}`}>
            <time dateTime={new Date(e.at).toISOString()}>{clock(e.at)}</time>
            <span className="act-text">{text}</span>
            <span className="actor" title="actor">
              {e.actor}
            </span>
          </li>
        ))}
      </ol>
    </div>
  );
}
