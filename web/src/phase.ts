import type { Command, ReleaseView, ServiceStatus } from './api.ts';

/** Trouble first: the order services are listed in on the overview. */
const TROUBLE: Record<string, number> = {
  Degraded: 0,
  RolledBack: 1,
  Aborted: 2,
  Paused: 3,
  Progressing: 4,
  Verifying: 4,
  Healthy: 5,
};
const trouble = (phase: string) => TROUBLE[phase] ?? 4;

export function byTrouble(a: ServiceStatus, b: ServiceStatus): number {
  return trouble(a.phase) - trouble(b.phase) || a.service.localeCompare(b.service);
}

export type Health = 'ok' | 'warn' | 'bad' | 'idle';

/** The badge: bad when rolled back or degraded or a rule fails, warn when waiting or unsure. */
export function healthOf(s: ServiceStatus): { health: Health; label: string } {
  if (s.phase === 'Degraded') return { health: 'bad', label: 'degraded' };
  if (s.phase === 'RolledBack') return { health: 'bad', label: 'rolled back' };
  if (s.verdicts.some((v) => v.outcome === 'Fail') && s.phase === 'Progressing')
    return { health: 'bad', label: 'failing' };
  if (s.phase === 'Aborted') return { health: 'warn', label: 'aborted' };
  if (s.phase === 'Paused') return { health: 'warn', label: 'paused' };
  if (s.phase !== 'Healthy') {
    return s.verdicts.some((v) => v.outcome === 'Inconclusive')
      ? { health: 'warn', label: 'gathering data' }
      : { health: 'ok', label: 'passing' };
  }
  return { health: 'ok', label: 'healthy' };
}

/** Release statuses in which a release is in progress (core/release/state.ts isActive). */
export const ACTIVE = new Set<string>(['Starting', 'Progressing', 'Paused', 'Verifying']);

/** Why a command cannot be used now (null: it can). Mirrors the checks the core makes, so the button says it before the server does. */
export function commandBlocked(
  command: Command | 'promote-full',
  s: ServiceStatus,
  history: ReleaseView[] | null,
): string | null {
  const r = s.release;
  const active = r !== null && ACTIVE.has(r.status);
  switch (command) {
    case 'promote':
    case 'promote-full':
      if (!active) return 'no release in progress';
      return r.status === 'Starting' ? 'the new revision is not ready yet' : null;
    case 'pause':
      if (!active) return 'no release in progress';
      return r.status === 'Progressing' ? null : `the release is ${r.status}`;
    case 'resume':
      if (!active) return 'no release in progress';
      if (r.status !== 'Paused') return `the release is ${r.status}`;
      return r.pause?.reason === 'step' ? 'waiting at a pause step: use promote' : null;
    case 'abort':
      // Abort also cancels a release waiting for its window.
      return active || s.waiting ? null : 'no release in progress';
    case 'retry':
      if (r === null || active) return active ? 'a release is in progress' : 'no release to retry';
      return r.status === 'Succeeded' ? 'the last release succeeded' : null;
    case 'undo': {
      if (active) return null;
      const previous = history?.find(
        (h) => h.status === 'Succeeded' && h.toRevision === s.stableRevision && h.fromRevision !== null,
      );
      return previous ? null : 'no previous revision to go back to';
    }
  }
}
