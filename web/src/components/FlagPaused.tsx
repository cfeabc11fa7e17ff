import { useState } from 'react';
import { request } from '../api.ts';
import { dateTime } from '../format.ts';
import { CAN_STEER, useIdentity } from '../identity.ts';
import { ConfirmDialog } from './ConfirmDialog.tsx';

/** What GET /api/flags says of an environment its contract paused (src/flags/flag-views.ts). */
export interface FlagPausedView {
  at: string;
  trigger: string;
  detail: string;
  rule: string | null;
  percent: number | null;
}

/** Who may resume: as the API's rule (src/api/flag-routes.ts), an approver's in a protected environment. */
const CAN_APPROVE = new Set(['approver', 'admin']);

/**
 * A flag its contract paused in one environment (`onFail: pause`): the percent it froze at, the
 * rule that failed and since when, and Resume (POST /api/flags/:name/resume), confirmed first and
 * disabled, saying why, for a role that may not.
 */
export function FlagPaused({
  flag,
  environment,
  paused,
  isProtected,
}: {
  flag: string;
  environment: string;
  paused: FlagPausedView;
  isProtected: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const id = useIdentity();
  const allowed = isProtected ? CAN_APPROVE : CAN_STEER;
  const blocked =
    id && !allowed.has(id.role)
      ? `your token "${id.name}" has role ${id.role}; resuming ${isProtected ? 'in a protected environment needs approver' : 'needs deployer'} or above`
      : null;
  const where = `${paused.percent === null ? '' : ` at ${paused.percent}%`}${paused.rule === null ? '' : ` (rule ${paused.rule})`}`;
  const explain =
    paused.percent === null
      ? `Let ${flag} be judged again in ${environment}.`
      : `Let ${flag} go on in ${environment} from ${paused.percent}%: a ramp continues from where it froze, and the contract judges it again.`;
  return (
    <div className="note flag-paused" role="status" data-testid={`paused-${flag}-${environment}`}>
      <p>
        <strong>Paused{where} by its contract</strong> — {paused.trigger}, since{' '}
        <time dateTime={paused.at}>{dateTime(paused.at)}</time>
      </p>
      <p className="muted" data-testid="paused-detail">
        {paused.detail}
      </p>
      <button
        type="button"
        disabled={blocked !== null}
        title={blocked ?? explain}
        onClick={() => setAsking(true)}
        data-testid={`resume-${flag}-${environment}`}
      >
        Resume
      </button>
      {asking && (
        <ConfirmDialog
          title={`Resume ${flag} in ${environment}?`}
          confirmLabel="Resume"
          withReason
          reasonLabel="Reason (kept in the flag's log)"
          onConfirm={async (reason) => {
            await request('POST', `/api/flags/${encodeURIComponent(flag)}/resume`, {
              environment,
              ...(reason && { reason }),
            });
          }}
          onClose={() => setAsking(false)}
        >
          <p>{explain}</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
