import type { ReleaseView } from '../api.ts';
import { clock, duration, metricValue } from '../format.ts';

type Log = NonNullable<ReleaseView['rollback']>;

/** Why a release was rolled back, on which figures, and how long each stage took. */
export function RollbackLog({ log }: { log: Log }) {
  const detected = Date.parse(log.detectedAt);
  const since = (t: string | null) => (t === null ? 'pending' : `+${duration(Date.parse(t) - detected)}`);
  return (
    <div className="rollback" data-testid="rollback-log">
      <p>
        <span className="badge health-bad">{log.kind}</span> trigger{' '}
        <strong data-testid="rollback-trigger">{log.trigger}</strong> — {log.reason}
        <span className="muted"> (by {log.actor})</span>
      </p>
      {log.verdicts.length > 0 && (
        <table className="figures">
          <caption className="sr-only">verdicts that decided the rollback</caption>
          <thead>
            <tr>
              <th scope="col">rule</th>
              <th scope="col">outcome</th>
              <th scope="col">canary</th>
              <th scope="col">baseline</th>
              <th scope="col">threshold</th>
              <th scope="col">samples</th>
            </tr>
          </thead>
          <tbody>
            {log.verdicts.map((v) => (
              <tr key={v.rule} className={`verdict-row-${v.outcome}`}>
                <th scope="row">{v.rule}</th>
                <td>
                  <span className={`badge verdict verdict-${v.outcome}`}>{v.outcome}</span>
                </td>
                <td>{metricValue(v.metric, v.canary)}</td>
                <td>{metricValue(v.metric, v.baseline)}</td>
                <td>{metricValue(v.metric, v.threshold)}</td>
                <td>
                  {v.canarySamples} / {v.baselineSamples}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ol className="stages" aria-label="rollback timeline">
        <li>
          <span className="muted">detected</span> {clock(log.detectedAt)}
        </li>
        <li>
          <span className="muted">traffic reverted</span>{' '}
          {log.trafficRevertedAt ? clock(log.trafficRevertedAt) : 'pending'}{' '}
          <span className="muted">{since(log.trafficRevertedAt)}</span>
        </li>
        <li>
          <span className="muted">canary stopped</span> {log.canaryStoppedAt ? clock(log.canaryStoppedAt) : 'pending'}{' '}
          <span className="muted">{since(log.canaryStoppedAt)}</span>
        </li>
        <li>
          <span className="muted">time to revert</span>{' '}
          <strong data-testid="revert-ms">{duration(log.revertMs)}</strong>
        </li>
      </ol>
    </div>
  );
}
