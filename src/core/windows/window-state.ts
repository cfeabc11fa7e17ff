import type { RRuleTemporal } from 'rrule-temporal';
import { compileRule, occurrences } from './occurrences.ts';
import type { Freeze, ReleaseWindow, WindowSpan, WindowState } from './types.ts';

const DAY = 86_400_000;
/** How far ahead `until` is looked for: past it, `until` is null ("not within 35 days"). */
export const HORIZON_MS = 35 * DAY;

const applies = (services: string[] | null | undefined, service: string) =>
  services == null || services.includes(service);

/** Compiled rules are cached per window object: the engine asks every tick with the same policy. */
const rules = new WeakMap<ReleaseWindow, RRuleTemporal>();
function ruleOf(w: ReleaseWindow): RRuleTemporal {
  let r = rules.get(w);
  if (r === undefined) rules.set(w, (r = compileRule(w)));
  return r;
}

/** Every window occurrence and freeze for `service` overlapping [from, to), by start. */
export function spans(
  windows: ReleaseWindow[],
  freezes: Freeze[],
  service: string | null,
  from: number,
  to: number,
): WindowSpan[] {
  const out: WindowSpan[] = [];
  for (const w of windows)
    if (service === null || applies(w.services, service)) out.push(...occurrences(w, ruleOf(w), from, to));
  for (const f of freezes) {
    if ((service === null || applies(f.services, service)) && f.until > from && f.from < to) {
      out.push({
        name: f.name,
        kind: 'freeze',
        start: f.from,
        end: f.until,
        services: f.services ?? null,
        timeZone: 'UTC',
      });
    }
  }
  return out.sort((a, b) => a.start - b.start || a.end - b.end);
}

/** "Fri 15:00 Europe/Berlin" style local time, for reasons a person reads. */
export function localTime(at: number, timeZone: string): string {
  const text = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(at);
  return `${text} ${timeZone}`;
}

interface Verdict {
  open: boolean;
  reason: string;
}

function decide(active: WindowSpan[], hasAllow: boolean, freezes: Freeze[]): Verdict {
  const freeze = active.find((s) => s.kind === 'freeze');
  if (freeze) {
    const why = freezes.find((f) => f.name === freeze.name)?.reason;
    return {
      open: false,
      reason: `freeze "${freeze.name}"${why ? ` (${why})` : ''} until ${new Date(freeze.end).toISOString()}`,
    };
  }
  const deny = active.find((s) => s.kind === 'deny');
  if (deny) return { open: false, reason: `deny window "${deny.name}" until ${localTime(deny.end, deny.timeZone)}` };
  const allow = active.find((s) => s.kind === 'allow');
  if (allow)
    return { open: true, reason: `allow window "${allow.name}" until ${localTime(allow.end, allow.timeZone)}` };
  return hasAllow ? { open: false, reason: 'outside every allow window' } : { open: true, reason: 'no window applies' };
}

/**
 * Whether a release of `service` may proceed at `now`: a freeze or a deny window closes it
 * (deny wins over allow); with allow windows, it is open only inside one; with none, open.
 * `until` is the next instant the answer flips (looked for within HORIZON_MS). Pure: `now` is
 * passed in. Rollbacks never ask: they are never blocked.
 */
export function windowState(
  windows: ReleaseWindow[],
  freezes: Freeze[],
  service: string,
  now: number,
  horizonMs = HORIZON_MS,
): WindowState {
  const all = spans(windows, freezes, service, now, now + horizonMs);
  const hasAllow = windows.some((w) => w.kind === 'allow' && applies(w.services, service));
  const at = (t: number) =>
    decide(
      all.filter((s) => s.start <= t && t < s.end),
      hasAllow,
      freezes,
    );
  const current = at(now);
  // The answer can only change where a span starts or ends.
  const edges = [...new Set(all.flatMap((s) => [s.start, s.end]))]
    .filter((t) => t > now && t < now + horizonMs)
    .sort((a, b) => a - b);
  const flip = edges.find((t) => at(t).open !== current.open) ?? null;
  if (!current.open && current.reason === 'outside every allow window') {
    const next = all.find((s) => s.kind === 'allow' && s.start > now);
    const reason = next
      ? `outside every allow window; next: "${next.name}" at ${localTime(next.start, next.timeZone)}`
      : `outside every allow window; none opens within ${Math.round(horizonMs / DAY)} days`;
    return { open: false, reason, until: flip };
  }
  return { open: current.open, reason: current.reason, until: flip };
}
