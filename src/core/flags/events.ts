import type { FeatureFlag, Segment } from './model.ts';

/** Why a flag was turned off by Sluice: the rule of its contract that failed, with the figures. */
export interface FlagRollbackLog {
  trigger: string;
  detail: string;
  figures: Record<string, number | string | null>;
  environment: string;
  /** The exposure when it was turned off. */
  percent: number | null;
  at: number;
}

/**
 * Every change of a flag or segment, in the hash-chained log under `_flags` (flags/flag-log.ts),
 * with its actor. Part of core/events.ts's EventBody; `reduceFlags` folds them into the flag set.
 */
export type FlagEvent =
  /** A FeatureFlag document was applied (created, or replaced as written). */
  | { type: 'flag.applied'; flag: FeatureFlag; file: string | null }
  /** A person or a ramp step set a rule's exposure in one environment. */
  | { type: 'flag.percentSet'; flag: string; environment: string; rule: string; percent: number; reason: string | null }
  | { type: 'flag.enabled'; flag: string; environment: string }
  /** The kill switch: the flag serves its off variant in this environment. */
  | { type: 'flag.disabled'; flag: string; environment: string; reason: string | null }
  /** The flag's contract failed: Sluice turned it off (with the kill switch), and why. */
  | { type: 'flag.rolledBack'; flag: string; log: FlagRollbackLog }
  /**
   * The flag's contract failed and its `onFail` is pause: Sluice froze the exposing rule at the
   * percent it had (a ramp stops moving) and holds it there until a person sets it again.
   */
  | { type: 'flag.paused'; flag: string; environment: string; rule: string | null; log: FlagRollbackLog }
  /** A person resumed a paused flag: its ramp goes on from where it froze (its schedule shifted by the pause), and judging starts again. */
  | { type: 'flag.resumed'; flag: string; environment: string; reason: string | null }
  /** Archived flags are served to no one; their history stays in the log. */
  | { type: 'flag.archived'; flag: string }
  | { type: 'segment.applied'; segment: Segment; file: string | null };

export const FLAG_EVENT_TYPES = [
  'flag.applied',
  'flag.percentSet',
  'flag.enabled',
  'flag.disabled',
  'flag.rolledBack',
  'flag.paused',
  'flag.resumed',
  'flag.archived',
  'segment.applied',
] as const satisfies readonly FlagEvent['type'][];

/** A sentence per flag event, for notifications and the CLI. */
export function describeFlagEvent(e: FlagEvent, actor: string): string {
  switch (e.type) {
    case 'flag.applied':
      return `flag ${e.flag.name} applied by ${actor}`;
    case 'flag.percentSet':
      return `flag ${e.flag} in ${e.environment}: rule ${e.rule} at ${e.percent}% (${actor}${e.reason ? `: ${e.reason}` : ''})`;
    case 'flag.enabled':
      return `flag ${e.flag} enabled in ${e.environment} by ${actor}`;
    case 'flag.disabled':
      return `flag ${e.flag} disabled in ${e.environment} by ${actor}${e.reason ? `: ${e.reason}` : ''}`;
    case 'flag.rolledBack':
      return `flag ${e.flag} turned off in ${e.log.environment}: ${e.log.trigger} — ${e.log.detail}`;
    case 'flag.paused':
      return `flag ${e.flag} paused in ${e.environment} at ${e.log.percent ?? 100}%${e.rule === null ? '' : ` (rule ${e.rule})`}: ${e.log.trigger} — ${e.log.detail}`;
    case 'flag.resumed':
      return `flag ${e.flag} resumed in ${e.environment} by ${actor}${e.reason ? `: ${e.reason}` : ''}`;
    case 'flag.archived':
      return `flag ${e.flag} archived by ${actor}`;
    case 'segment.applied':
      return `segment ${e.segment.name} applied by ${actor}`;
  }
}
