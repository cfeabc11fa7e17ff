import type { DependencyGraph } from '../api.ts';
import { api, type TrainView } from '../api.ts';
import { useLive } from '../live.ts';
import { Link } from '../router.tsx';

const NODE_W = 200;
const NODE_H = 54;
const COL = 280;
const ROW = 80;

/** Services as nodes by release level (what depends on nothing at the left), dependencies as edges with their ranges; violations in red. */
function GraphPicture({ graph, train }: { graph: DependencyGraph; train: TrainView | null }) {
  const levels = graph.levels.length > 0 ? graph.levels : [graph.services.map((s) => s.name)];
  const at = new Map<string, { x: number; y: number }>();
  levels.forEach((names, col) => names.forEach((n, row) => at.set(n, { x: 10 + col * COL, y: 10 + row * ROW })));
  const violating = new Set(graph.violations.map((v) => v.service));
  const inTrain = new Map((train?.services ?? []).map((s) => [s.name, s.status]));
  const width = 20 + levels.length * COL;
  const height = 20 + Math.max(...levels.map((l) => l.length)) * ROW;
  return (
    <svg
      className="graph"
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
      role="img"
      aria-label="dependency graph"
      data-testid="graph"
    >
      <defs>
        <marker
          id="arrow"
          viewBox="0 0 10 10"
          refX="10"
          refY="5"
          markerWidth="6"
          markerHeight="6"
          orient="auto-start-reverse"
        >
          <path d="M 0 0 L 10 5 L 0 10 z" className="edge-head" />
        </marker>
      </defs>
      {graph.edges.map((e) => {
        const from = at.get(e.from);
        const to = at.get(e.to);
        if (!from || !to) return null;
        const [x1, y1, x2, y2] = [from.x, from.y + NODE_H / 2, to.x + NODE_W, to.y + NODE_H / 2];
        return (
          <g
            key={`${e.from}-${e.to}`}
            className={e.met ? 'edge' : 'edge edge-unmet'}
            data-testid={`edge-${e.from}-${e.to}`}
          >
            <line x1={x1} y1={y1} x2={x2} y2={y2} markerEnd="url(#arrow)" />
            <text x={(x1 + x2) / 2} y={(y1 + y2) / 2 - 4} textAnchor="middle">
              {e.range}
            </text>
          </g>
        );
      })}
      {graph.services.map((s) => {
        const p = at.get(s.name);
        if (!p) return null;
        const status = inTrain.get(s.name);
        return (
          <g
            key={s.name}
            className={`node${violating.has(s.name) ? ' node-violation' : ''}${status ? ` node-train node-${status}` : ''}`}
            data-testid={`node-${s.name}`}
          >
            <rect x={p.x} y={p.y} width={NODE_W} height={NODE_H} rx={8} />
            <text x={p.x + 10} y={p.y + 20} className="node-name">
              {s.name}
            </text>
            <text x={p.x + 10} y={p.y + 40}>
              {s.running ?? 'not running'}
              {s.releasing ? ` → ${s.releasing}` : ''}
              {status ? ` · ${status}` : ''}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

function TrainPanel({ name }: { name: string }) {
  const { data: t, error } = useLive(
    (signal) => api.train(name, signal),
    (e) => e.service === `_train:${name}` || e.type.startsWith('release.') || e.type.startsWith('rollback.'),
    [name],
    300,
  );
  if (error)
    return (
      <p className="error" role="alert">
        Could not load train {name}: {error}
      </p>
    );
  if (!t) return <p className="muted">Loading…</p>;
  return (
    <section className="panel" aria-labelledby={`train-${name}`} data-testid={`train-${name}`}>
      <h2 id={`train-${name}`}>
        Train {t.name} <span className={`badge outcome-${t.status}`}>{t.status}</span>{' '}
        <span className="muted">
          run {t.run} · maxParallel {t.maxParallel} · {t.onFailure}
        </span>
      </h2>
      {t.detail && <p>{t.detail}</p>}
      <ol className="steps">
        {t.services.map((s) => (
          <li key={s.name} className={`step train-${s.status}`} data-testid={`train-service-${s.name}`}>
            <span className="step-mark">{s.status}</span>
            <Link href={`/services/${s.name}`}>{s.name}</Link> {s.from?.version ?? '—'} → {s.version}
            {s.status === 'waiting' && s.after.length > 0 && <span className="muted">after {s.after.join(', ')}</span>}
          </li>
        ))}
      </ol>
      <h3>Timeline</h3>
      <ul className="activity" data-testid={`train-timeline-${name}`}>
        {(t.timeline ?? []).map((e, i) => (
          <li key={i} className={`act act-${e.type.replace('.', '-')}`}>
            <time dateTime={e.at}>{e.at.slice(11, 19)}</time>
            <span className="act-text">{e.text}</span>
            <span className="actor">{e.actor}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The dependency graph and the release trains: what runs where, what needs what, what a train is doing. */
export function GraphPage() {
  const graph = useLive(
    (signal) => api.graph(signal),
    (e) =>
      e.type === 'release.succeeded' ||
      e.type === 'spec.applied' ||
      e.type === 'service.deleted' ||
      e.type.startsWith('rollback.'),
    [],
    500,
  );
  const trains = useLive(
    (signal) => api.trains(signal),
    (e) => e.type.startsWith('train.'),
    [],
    300,
  );
  const running = trains.data?.find((t) => ['WaitingForApproval', 'Running', 'RollingBack'].includes(t.status)) ?? null;
  const shown = running ?? trains.data?.[0] ?? null;
  return (
    <section aria-labelledby="graph-title">
      <h1 id="graph-title">Dependency graph</h1>
      {graph.error && (
        <p className="error" role="alert">
          Could not load the graph: {graph.error}
        </p>
      )}
      {graph.data && (
        <div className="panel graph-panel">
          {graph.data.services.length === 0 ? (
            <p>No services yet.</p>
          ) : (
            <GraphPicture graph={graph.data} train={running} />
          )}
          <h2>Violations</h2>
          {graph.data.violations.length === 0 ? (
            <p className="muted" data-testid="violations">
              none: every running service's dependencies run a version in its range
            </p>
          ) : (
            <ul className="violations" data-testid="violations">
              {graph.data.violations.map((v) => (
                <li key={`${v.service}-${v.dependency}`}>{v.message}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      {trains.data?.length === 0 && (
        <p className="panel">
          No release trains yet. Apply a <code>kind: ReleaseTrain</code> document.
        </p>
      )}
      {(trains.data ?? []).some((t) => (t.upcoming ?? []).length > 0) && (
        <section className="panel" aria-labelledby="upcoming-title" data-testid="upcoming-trains">
          <h2 id="upcoming-title">Upcoming trains</h2>
          <ul className="history">
            {trains
              .data!.filter((t) => (t.upcoming ?? []).length > 0)
              .map((t) => (
                <li key={t.name} className="release">
                  <strong>{t.name}</strong>{' '}
                  <span className="muted">
                    {t.schedule?.rrule} ({t.schedule?.timeZone})
                  </span>
                  : {t.upcoming!.map((u) => new Date(u).toLocaleString()).join(' · ')}
                </li>
              ))}
          </ul>
        </section>
      )}
      {shown && <TrainPanel key={shown.name} name={shown.name} />}
      {(trains.data?.length ?? 0) > 1 && (
        <p className="muted">
          Other trains:{' '}
          {trains
            .data!.filter((t) => t !== shown)
            .map((t) => `${t.name} (${t.status})`)
            .join(', ')}
        </p>
      )}
    </section>
  );
}
