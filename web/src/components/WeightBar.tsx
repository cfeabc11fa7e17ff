import type { ServiceStatus } from '../api.ts';

/** Same traffic, whatever the key order and however many 0% entries. */
function sameSplit(a: Record<string, number>, b: Record<string, number>): boolean {
  const keyed = (w: Record<string, number>) =>
    JSON.stringify(
      Object.entries(w)
        .filter(([, v]) => v > 0)
        .sort(([x], [y]) => x.localeCompare(y)),
    );
  return keyed(a) === keyed(b);
}

/** The traffic split: one segment per version, the canary in the accent colour. */
export function WeightBar({ status, large = false }: { status: ServiceStatus; large?: boolean }) {
  const entries = Object.entries(status.weights).sort(([a], [b]) =>
    a === status.stableVersion ? -1 : b === status.stableVersion ? 1 : a.localeCompare(b),
  );
  const role = (v: string) => (v === status.stableVersion ? 'stable' : 'canary');
  const pending = !sameSplit(status.weights, status.appliedWeights);
  return (
    <div className={`split ${large ? 'split-large' : ''}`}>
      <div className="bar" role="img" aria-label={`traffic: ${entries.map(([v, w]) => `${v} ${w}%`).join(', ')}`}>
        {entries.map(([v, w]) => (
          <span key={v} className={`seg seg-${role(v)}`} style={{ width: `${w}%` }} />
        ))}
      </div>
      <ul className="legend">
        {entries.map(([v, w]) => (
          <li key={v}>
            <span className={`swatch seg-${role(v)}`} aria-hidden="true" />
            <span className="ver">{v}</span> <strong data-testid={`weight-${v}`}>{w}%</strong>
            <span className="muted"> {role(v)}</span>
          </li>
        ))}
        {pending && (
          <li className="muted" title="decided, not yet confirmed by the router">
            propagating…
          </li>
        )}
      </ul>
    </div>
  );
}
