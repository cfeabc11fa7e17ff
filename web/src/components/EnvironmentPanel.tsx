import { useState } from 'react';
import { api, type GateView, type PlanView, type ServiceEvent } from '../api.ts';
import { useIdentity } from '../identity.ts';
import { useLive } from '../live.ts';
import { ConfirmDialog } from './ConfirmDialog.tsx';

const CAN_APPROVE = new Set(['approver', 'admin']);
const OPEN = new Set(['Planned', 'Refused']);

type Asking = { kind: 'approve' } | { kind: 'override'; gate: GateView };

/**
 * For an environment's service (`shop--production`): the promotion waiting at its gates, each gate
 * with its result, and Approve / Override, with the same rules as the API (role, four-eyes, owners).
 */
export function EnvironmentPanel({ service }: { service: string }) {
  const split = service.indexOf('--');
  const base = split < 0 ? null : service.slice(0, split);
  const env = split < 0 ? null : service.slice(split + 2);
  const relevant = (e: ServiceEvent) => e.service === base || e.service === service;
  const view = useLive(
    (signal) => (base === null ? Promise.resolve(null) : api.environments(base, signal)),
    relevant,
    [base],
    300,
  );
  const id = useIdentity();
  const [asking, setAsking] = useState<Asking | null>(null);
  if (base === null || env === null || !view.data) return null;
  const plan: PlanView | null = view.data.environments.find((e) => e.environment === env)?.plan ?? null;
  if (plan === null || !OPEN.has(plan.status)) return null;
  const owners = plan.policy.approvals.owners ?? [];
  const blocked = !id
    ? 'sign in to approve'
    : !CAN_APPROVE.has(id.role)
      ? `your token "${id.name}" has role ${id.role}; approvals need approver or above`
      : id.name === plan.requestedBy
        ? `${id.name} asked for this release: another approver must (four-eyes)`
        : owners.length > 0 && !owners.includes(id.name)
          ? `approvals come from the owners: ${owners.join(', ')}`
          : null;
  const done = async () => view.reload();
  return (
    <section className="panel" aria-labelledby="gates-title" data-testid="environment-gates">
      <h2 id="gates-title">
        Promotion of {plan.version} to {env}: {plan.status}
      </h2>
      <p className="muted">
        asked by {plan.requestedBy} · {plan.detail}
      </p>
      <table>
        <thead>
          <tr>
            <th>gate</th>
            <th>result</th>
            <th>why</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {plan.gates.map((g) => (
            <tr key={g.gate}>
              <td>{g.gate}</td>
              <td>
                <span className={`badge gate-${g.outcome}`}>{g.outcome}</span>
              </td>
              <td>{g.detail}</td>
              <td>
                {(g.outcome === 'failed' || g.outcome === 'waiting') && g.gate !== 'contract' && (
                  <button
                    type="button"
                    className="danger"
                    disabled={blocked !== null}
                    title={blocked ?? `let the release through ${g.gate}; opens a post-mortem`}
                    onClick={() => setAsking({ kind: 'override', gate: g })}
                  >
                    Override
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {plan.policy.approvals.required > 0 && (
        <button
          type="button"
          disabled={blocked !== null}
          title={blocked ?? `approve ${plan.version} for ${env}`}
          onClick={() => setAsking({ kind: 'approve' })}
          data-testid="approve"
        >
          Approve
        </button>
      )}
      {asking && (
        <ConfirmDialog
          title={
            asking.kind === 'approve' ? `Approve ${plan.version} for ${env}?` : `Override gate ${asking.gate.gate}?`
          }
          confirmLabel={asking.kind === 'approve' ? 'Approve' : 'Override'}
          danger={asking.kind === 'override'}
          withReason
          onConfirm={(text) =>
            (asking.kind === 'approve'
              ? api.approve(base, env, text)
              : api.override(base, env, asking.gate.gate, text)
            ).then(done)
          }
          onClose={() => setAsking(null)}
        >
          <p>
            {asking.kind === 'approve'
              ? `Your approval counts for ${plan.version} and this spec only; an optional comment goes in the record.`
              : `Write why (at least 10 characters). The override is recorded with your name and opens a post-mortem.`}
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
