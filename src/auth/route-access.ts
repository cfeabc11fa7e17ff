import type { Role, TokenRole } from './roles.ts';

/** What a route needs: a role, or nothing (`public`). */
export type Access = TokenRole | 'public';

/** The role each release command needs (POST /api/services/:name/:command). */
export const COMMAND_ROLES: Record<string, Role> = {
  promote: 'deployer',
  pause: 'deployer',
  resume: 'deployer',
  abort: 'deployer',
  retry: 'deployer',
  undo: 'deployer',
};

/**
 * The access a request needs, from its method and route pattern (`/api/services/:name`).
 * Fail-safe: a route this table does not know needs `viewer` to read and `admin` to change
 * anything, so a new route is never open by mistake. Reads outside /api (/healthz, the
 * dashboard's files) are public. `path` is the request's path, when `route` is a pattern.
 */
export function requiredAccess(
  method: string,
  route: string,
  params: Record<string, string | undefined>,
  path = route,
): Access {
  const read = method === 'GET' || method === 'HEAD';
  // Sluice's own metrics (docs/analytics.md) are a read of the API: a viewer's, though outside /api for Prometheus.
  if (route === '/metrics') return read ? 'viewer' : 'admin';
  // Applications read their environment's flags with an sdk token (docs/flags.md).
  if (route.startsWith('/ofrep/') || path.startsWith('/ofrep/') || route.startsWith('/api/sdk/')) return 'sdk';
  // The path too: a catch-all route (the dashboard's `/*`) must not open an /api URL.
  if (!route.startsWith('/api') && !path.startsWith('/api')) return read ? 'public' : 'admin';
  if (route === '/api/tokens' || route.startsWith('/api/tokens/')) return 'admin';
  if (read) return 'viewer';
  if (method === 'POST' && route === '/api/lint') return 'viewer';
  if (method === 'POST' && route === '/api/apply') return 'deployer';
  // An outside signal (a support tool, a pager) can fail a release: as much as an abort.
  if (method === 'POST' && route === '/api/services/:name/signals') return 'deployer';
  // Environments (docs/governance.md): asking for a promotion is a release; approving and overriding gates is the approver's.
  if (method === 'POST' && route === '/api/services/:name/releases') return 'deployer';
  if (method === 'POST' && (route === '/api/services/:name/approve' || route === '/api/services/:name/override'))
    return 'approver';
  // Analytics history (docs/analytics.md): importing it, or an alerting tool's incidents, is a deployer's.
  if (method === 'POST' && (route === '/api/analytics/import' || route === '/api/analytics/incidents'))
    return 'deployer';
  // Flags (docs/flags.md): exposure, the kill switch and archive are a deployer's (a protected environment asks more, in the route).
  if (method === 'POST' && route.startsWith('/api/flags/:name/')) return 'deployer';
  // Drills (docs/drills.md): running or scheduling one and the safety lever are a deployer's; signing one off an approver's.
  if (
    method === 'POST' &&
    (route === '/api/gamedays/run' ||
      route === '/api/gamedays/stop' ||
      route === '/api/gamedays/schedules' ||
      route === '/api/rehearsals')
  )
    return 'deployer';
  if (method === 'DELETE' && route === '/api/gamedays/schedules/:name') return 'deployer';
  if (method === 'POST' && route === '/api/gamedays/:name/signoff') return 'approver';
  if (method === 'POST' && route === '/api/services/:name/:command')
    return COMMAND_ROLES[params.command ?? ''] ?? 'admin';
  // Release trains (docs/trains.md): stopping or re-running one is a deployer's, as for a release.
  if (method === 'POST' && (route === '/api/trains/:name/abort' || route === '/api/trains/:name/retry'))
    return 'deployer';
  // Approving or rejecting a train as such is the approver's (a train asking for admin: checked in the runner).
  if (method === 'POST' && (route === '/api/trains/:name/approve' || route === '/api/trains/:name/reject'))
    return 'approver';
  return 'admin';
}
