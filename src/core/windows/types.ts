/**
 * Release windows and freezes, as plain data (the policy schema turns YAML into these). Times
 * are epoch milliseconds; wall times are local to the window's time zone.
 */

/**
 * A recurring window: `rrule` (RFC 5545, e.g. `FREQ=WEEKLY;BYDAY=MO,TU,WE,TH`) expanded from
 * `start` (a local wall time in `timeZone`, e.g. `2026-01-05T09:00`); each occurrence lasts
 * `durationMs` of elapsed time.
 */
export interface ReleaseWindow {
  name: string;
  /** allow: releases may proceed inside; deny: they may not (a deny always wins). */
  kind: 'allow' | 'deny';
  rrule: string;
  start: string;
  durationMs: number;
  /** IANA time zone, e.g. Europe/Berlin, America/New_York, UTC. */
  timeZone: string;
  /** The services it applies to; absent: all. */
  services?: string[];
}

/** A one-off stop for a set of services (or all): no release starts or moves on inside it. */
export interface Freeze {
  name: string;
  from: number;
  until: number;
  reason: string;
  services?: string[];
}

/** One occurrence of a window, or a freeze, as an interval [start, end). */
export interface WindowSpan {
  name: string;
  kind: 'allow' | 'deny' | 'freeze';
  start: number;
  end: number;
  services: string[] | null;
  /** The window's time zone (UTC for freezes), to show local times. */
  timeZone: string;
}

export interface WindowState {
  open: boolean;
  /** A sentence: which window or freeze decided, with local times. */
  reason: string;
  /** When `open` changes next (within the horizon looked at), or null if it does not. */
  until: number | null;
}

/** A server's release windows and freezes (`kind: ReleasePolicy`, docs/windows.md). */
export interface ReleasePolicy {
  name: string;
  windows: ReleaseWindow[];
  freezes: Freeze[];
}
