/**
 * The demo's users: steady open-loop traffic through the service's proxy, most of it from
 * signed-in users whose x-user-id keeps them on one version, and what that traffic saw,
 * read from the client side (status and x-version of every response).
 */
import { startLoad, type Load, type Sample } from '../../test/support/load.ts';

export const USERS = 300;
/** One request in this many is anonymous (no x-user-id). */
const ANONYMOUS_EVERY = 5;

/** The user who sends request i, or null for an anonymous request. Spread pseudo-randomly over USERS. */
export function userOf(i: number): string | null {
  if (i % ANONYMOUS_EVERY === 0) return null;
  return `user-${(Math.imul(i, 2654435761) >>> 0) % USERS}`;
}

export function startTraffic(url: string, rps: number): Load {
  return startLoad({
    url,
    rps,
    // Longer than any run: the demo stops it.
    durationMs: 5 * 60_000,
    headers: (i): Record<string, string> => {
      const user = userOf(i);
      return user === null ? {} : { 'x-user-id': user };
    },
  });
}

export const trafficShape = (rps: number): string =>
  `${rps} requests/s; ${100 - 100 / ANONYMOUS_EVERY}% come from ${USERS} signed-in users (x-user-id), who stay on one version`;

const failed = (s: Sample) => s.status === 0 || s.status >= 500;

/** "787 requests, all answered by 1.0.0, none failed" for the requests started at or after `since`. */
export function tally(samples: Sample[], since = 0): string {
  const byVersion = new Map<string, number>();
  let requests = 0;
  let failures = 0;
  for (const s of samples) {
    if (s.start < since) continue;
    requests += 1;
    if (failed(s)) failures += 1;
    const version = s.version ?? 'no answer';
    byVersion.set(version, (byVersion.get(version) ?? 0) + 1);
  }
  const versions = [...byVersion.entries()];
  const answered =
    versions.length === 1 && versions[0]
      ? `all answered by ${versions[0][0]}`
      : `answered by ${versions.map(([v, c]) => `${v} ${c}`).join(' · ')}`;
  return `${requests} requests, ${answered}, ${failures === 0 ? 'none failed' : `${failures} failed`}`;
}

export interface Act {
  name: string;
  /** Epoch ms; requests started in [from, to) belong to the act. */
  from: number;
  to: number;
}

export interface ActFigures {
  act: string;
  requests: number;
  /** Per x-version ("no answer" for connection errors). */
  byVersion: Record<string, { served: number; failed: number }>;
}

export function actFigures(samples: Sample[], acts: Act[]): ActFigures[] {
  return acts.map((act) => {
    const byVersion: ActFigures['byVersion'] = {};
    let requests = 0;
    for (const s of samples) {
      if (s.start < act.from || s.start >= act.to) continue;
      requests += 1;
      const entry = (byVersion[s.version ?? 'no answer'] ??= { served: 0, failed: 0 });
      if (failed(s)) entry.failed += 1;
      else entry.served += 1;
    }
    return { act: act.name, requests, byVersion };
  });
}

/** What one version did to the users it served, as they saw it. */
export interface Exposure {
  version: string;
  answered: number;
  failed: number;
  /** End of the first failed response from this version (epoch ms), null if none failed. */
  firstFailureAt: number | null;
  /** End of the first and the last response from this version, null if it answered none. */
  firstAnsweredAt: number | null;
  lastAnsweredAt: number | null;
  usersServed: number;
  usersWithError: number;
  anonymousErrors: number;
}

export function exposureTo(version: string, samples: Sample[]): Exposure {
  const usersServed = new Set<string>();
  const usersWithError = new Set<string>();
  let answered = 0;
  let failures = 0;
  let anonymousErrors = 0;
  let firstFailureAt: number | null = null;
  let firstAnsweredAt: number | null = null;
  let lastAnsweredAt: number | null = null;
  for (const s of samples) {
    if (s.version !== version) continue;
    answered += 1;
    const user = userOf(s.i);
    if (user !== null) usersServed.add(user);
    firstAnsweredAt = Math.min(firstAnsweredAt ?? s.end, s.end);
    lastAnsweredAt = Math.max(lastAnsweredAt ?? s.end, s.end);
    if (!failed(s)) continue;
    failures += 1;
    firstFailureAt = Math.min(firstFailureAt ?? s.end, s.end);
    if (user === null) anonymousErrors += 1;
    else usersWithError.add(user);
  }
  return {
    version,
    answered,
    failed: failures,
    firstFailureAt,
    firstAnsweredAt,
    lastAnsweredAt,
    usersServed: usersServed.size,
    usersWithError: usersWithError.size,
    anonymousErrors,
  };
}
