import { useState } from 'react';
import { request, type DrillRecord, type DrillRunRow, type ScheduledDrill } from '../api.ts';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { DrillChart, MARKED } from '../components/DrillChart.tsx';
import { CAN_STEER, useIdentity } from '../identity.ts';
import { useLive } from '../live.ts';
import { Link } from '../router.tsx';

const ms = (v: number | null) => (v === null ? '—' : `${v} ms`);
const when = (at: number) => new Date(at).toISOString().slice(0, 19).replace('T', ' ');
const isDrillEvent = (e: { service: string }) => e.service === '_drills';

/** The safety lever: stops every drill and removes every fault of every data plane (POST /api/gamedays/stop). */
function SafetyLever() {
  const id = useIdentity();
  const [open, setOpen] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  // No tokens on the server (null) lets everyone steer; a viewer may not.
  const allowed = id === null || (id !== undefined && CAN_STEER.has(id.role));
  return (
    <div className="panel" data-testid="safety-lever">
      <button
        type="button"
        className="danger"
        disabled={!allowed}
        title={allowed ? 'stop every drill and remove every fault now' : 'needs the deployer role or above'}
        onClick={() => setOpen(true)}
        data-testid="stop-all"
      >
        Stop all drills
      </button>{' '}
      <span className="muted small">
        {allowed ? 'the safety lever: every fault removed within 1 s' : 'the safety lever needs the deployer role'}
      </span>
      {result && (
        <p role="status" data-testid="stop-all-result">
          {result}
        </p>
      )}
      {open && (
        <ConfirmDialog
          title="Stop every drill?"
          confirmLabel="Stop all drills"
          danger
          onClose={() => setOpen(false)}
          onConfirm={async () => {
            const r = await request<{ stopped: string[]; removed: number; ms: number }>('POST', '/api/gamedays/stop', {
              all: true,
            });
            setResult(`stopped ${r.stopped.length} drill(s); removed ${r.removed} fault(s) in ${r.ms} ms`);
          }}
        >
          Every running drill is aborted, every fault of every data plane removed and every stopped instance resumed.
        </ConfirmDialog>
      )}
    </div>
  );
}

function RunView({ drill, run }: { drill: string; run: number }) {
  const { data, error } = useLive(
    (signal) => request<DrillRecord>('GET', `/api/gamedays/${encodeURIComponent(drill)}?run=${run}`, undefined, signal),
    isDrillEvent,
    [drill, run],
    300,
  );
  if (error)
    return (
      <p className="error" role="alert">
        Could not load drill {drill} #{run}: {error}
      </p>
    );
  if (data === null) return <p className="muted">Loading…</p>;
  return (
    <section className="panel" aria-labelledby="run-title" data-testid="drill-run">
      <h2 id="run-title">
        {data.drill} #{data.run} on {data.service}{' '}
        <span className={`badge drill-${data.status}`} data-testid="drill-status">
          {data.status}
        </span>
      </h2>
      {data.detail && <p className="muted">{data.detail}</p>}
      <dl className="facts">
        <div>
          <dt>time to detect</dt>
          <dd data-testid="drill-detect">{ms(data.timeToDetectMs)}</dd>
        </div>
        <div>
          <dt>time to restore</dt>
          <dd data-testid="drill-restore">{ms(data.timeToRestoreMs)}</dd>
        </div>
        <div>
          <dt>score</dt>
          <dd>{data.score ?? '—'}</dd>
        </div>
        <div>
          <dt>run by</dt>
          <dd>{data.startedBy}</dd>
        </div>
      </dl>
      <DrillChart record={data} />
      <h3>Timeline</h3>
      <ol className="drill-timeline" data-testid="drill-timeline">
        {data.timeline.map((e, i) => (
          <li key={i} className={MARKED.has(e.type) ? 'marked' : undefined} data-type={e.type}>
            <time dateTime={new Date(e.at).toISOString()}>{when(e.at).slice(11)}</time> {e.text}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** Every drill run and scheduled drill; one run's timeline over its traffic; the safety lever. */
export function DrillsPage({ drill, run }: { drill: string | null; run: number | null }) {
  const { data, error } = useLive(
    (signal) =>
      request<{ runs: DrillRunRow[]; schedules: ScheduledDrill[] }>('GET', '/api/gamedays', undefined, signal),
    isDrillEvent,
    [],
    300,
  );
  return (
    <section aria-labelledby="drills-title">
      <h1 id="drills-title">Drills</h1>
      <SafetyLever />
      {error && (
        <p className="error" role="alert">
          Could not load the drills: {error}
        </p>
      )}
      {data === null && !error && <p className="muted">Loading…</p>}
      {data?.runs.length === 0 && (
        <p className="panel">
          No drills yet. Run one: <code>sluice gameday run -f drill.yaml</code>
        </p>
      )}
      {data !== null && data.runs.length > 0 && (
        <table className="runs" data-testid="drill-runs">
          <thead>
            <tr>
              <th>drill</th>
              <th>run</th>
              <th>service</th>
              <th>status</th>
              <th>started</th>
              <th>detect</th>
              <th>restore</th>
              <th>score</th>
            </tr>
          </thead>
          <tbody>
            {data.runs.map((r) => (
              <tr key={`${r.drill}#${r.run}`} data-testid={`drill-row-${r.drill}-${r.run}`}>
                <td>
                  <Link href={`/drills/${r.drill}/${r.run}`}>{r.drill}</Link>
                </td>
                <td>{r.run}</td>
                <td>{r.service}</td>
                <td>
                  <span className={`badge drill-${r.status}`}>{r.status}</span>
                </td>
                <td>{when(r.startedAt)}</td>
                <td>{ms(r.timeToDetectMs)}</td>
                <td>{ms(r.timeToRestoreMs)}</td>
                <td>{r.score ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data !== null && data.schedules.length > 0 && (
        <>
          <h2>Scheduled</h2>
          <ul data-testid="drill-schedules">
            {data.schedules.map((s) => (
              <li key={s.drill}>
                <strong>{s.drill}</strong> on {s.service}: next run{' '}
                {s.nextRunAt === null ? 'none' : `${when(s.nextRunAt)} UTC`} ({s.rrule}, {s.timeZone}); owners{' '}
                {s.owners.join(', ') || '—'} reminded {Math.round(s.remindMs / 60_000)} min before
              </li>
            ))}
          </ul>
        </>
      )}
      {drill !== null && run !== null && <RunView key={`${drill}#${run}`} drill={drill} run={run} />}
    </section>
  );
}
