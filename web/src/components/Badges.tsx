import type { ServiceStatus } from '../api.ts';
import { healthOf } from '../phase.ts';

export function PhaseBadge({ phase }: { phase: ServiceStatus['phase'] }) {
  return (
    <span className={`badge phase phase-${phase}`} data-testid="phase">
      {phase}
    </span>
  );
}

export function HealthBadge({ status }: { status: ServiceStatus }) {
  const { health, label } = healthOf(status);
  return (
    <span className={`badge health health-${health}`} data-testid="health">
      <span aria-hidden="true">{health === 'ok' ? '●' : health === 'warn' ? '▲' : health === 'bad' ? '✕' : '○'}</span>{' '}
      {label}
    </span>
  );
}
