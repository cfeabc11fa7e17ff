import { useState } from 'react';
import { api, type Command, type ReleaseView, type ServiceStatus } from '../api.ts';
import { CAN_STEER, useIdentity } from '../identity.ts';
import { commandBlocked } from '../phase.ts';
import { ConfirmDialog } from './ConfirmDialog.tsx';

type Action = Command | 'promote-full';

const ACTIONS: { action: Action; label: string; danger?: boolean; explain: (s: ServiceStatus) => string }[] = [
  {
    action: 'promote',
    label: 'Promote',
    explain: (s) => `Move ${s.service}'s release to its next step now, without waiting for the current one.`,
  },
  {
    action: 'promote-full',
    label: 'Promote fully',
    explain: (s) =>
      `Skip the remaining steps: send 100% of ${s.service}'s traffic to ${s.canaryVersion ?? 'the new version'} now.`,
  },
  {
    action: 'pause',
    label: 'Pause',
    explain: (s) => `Hold ${s.service}'s release at its current weights until resumed.`,
  },
  { action: 'resume', label: 'Resume', explain: (s) => `Continue ${s.service}'s release from where it was paused.` },
  {
    action: 'abort',
    label: 'Abort',
    danger: true,
    explain: (s) =>
      `Send all of ${s.service}'s traffic back to ${s.stableVersion ?? 'the stable version'} and stop the canary.`,
  },
  {
    action: 'retry',
    label: 'Retry',
    explain: (s) => `Start the last release of ${s.service} (${s.release?.toVersion ?? ''}) again from its first step.`,
  },
  {
    action: 'undo',
    label: 'Undo',
    danger: true,
    explain: (s) =>
      s.canaryVersion
        ? `Abort the release in progress of ${s.service}.`
        : `Release ${s.service}'s previous revision again, replacing ${s.stableVersion ?? 'the stable one'}.`,
  },
];

/** The commands, each enabled only when the core would accept it, each confirmed before it is sent. */
export function Controls({
  status,
  history,
  onDone,
}: {
  status: ServiceStatus;
  history: ReleaseView[] | null;
  onDone: () => void;
}) {
  const [asking, setAsking] = useState<(typeof ACTIONS)[number] | null>(null);
  const id = useIdentity();
  const roleBlocked =
    id && !CAN_STEER.has(id.role)
      ? `your token "${id.name}" has role ${id.role}; commands need deployer or above`
      : null;
  const send = async (action: Action, reason: string) => {
    const command: Command = action === 'promote-full' ? 'promote' : action;
    await api.command(
      status.service,
      command,
      action === 'promote-full' ? { full: true } : action === 'abort' && reason ? { reason } : {},
    );
    onDone();
  };
  return (
    <div className="controls" role="group" aria-label="release controls">
      {ACTIONS.map((a) => {
        const blocked = roleBlocked ?? commandBlocked(a.action, status, history);
        return (
          <button
            key={a.action}
            type="button"
            className={a.danger ? 'danger' : undefined}
            disabled={blocked !== null}
            title={blocked ?? a.explain(status)}
            onClick={() => setAsking(a)}
            data-testid={`cmd-${a.action}`}
          >
            {a.label}
          </button>
        );
      })}
      {asking && (
        <ConfirmDialog
          title={`${asking.label} ${status.service}?`}
          confirmLabel={asking.label}
          danger={asking.danger ?? false}
          withReason={asking.action === 'abort'}
          onConfirm={(reason) => send(asking.action, reason)}
          onClose={() => setAsking(null)}
        >
          <p>{asking.explain(status)}</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
