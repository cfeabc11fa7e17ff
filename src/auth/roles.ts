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

/** Whether a token of role `has` may call a route that needs `needs`. */
export function roleAllows(has: Role, needs: Role): boolean {
  return ROLES.indexOf(has) >= ROLES.indexOf(needs);
}
