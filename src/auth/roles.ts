/**
 * Who may do what. Each role includes every role before it: a deployer can read, an approver can
 * deploy, an admin can do everything.
 */
export const ROLES = [
  /** Reads: services, history, events, the audit trail, the calendar. */
  'viewer',
  /** apply, promote, pause, resume, abort, retry, undo. */
  'deployer',
  /** A deployer who may also approve releases and override failed gates (issue #6, later part). */
  'approver',
  /** Tokens, and deleting services. */
  'admin',
] as const;
export type Role = (typeof ROLES)[number];

export function isRole(text: string): text is Role {
  return (ROLES as readonly string[]).includes(text);
}

/**
 * An application's token: it reads one environment's flags (OFREP, the provider's stream) and
 * reports evaluations, and nothing else. Outside the ladder above: no role includes it, and it
 * includes none.
 */
export const SDK_ROLE = 'sdk';
export type TokenRole = Role | typeof SDK_ROLE;
export const TOKEN_ROLES = [...ROLES, SDK_ROLE] as const;

/** Whether a token of role `has` may call a route that needs `needs`. */
export function roleAllows(has: TokenRole, needs: TokenRole): boolean {
  if (has === SDK_ROLE || needs === SDK_ROLE) return has === needs;
  return ROLES.indexOf(has) >= ROLES.indexOf(needs);
}
