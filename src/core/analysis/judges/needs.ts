/**
 * How much more data a Pass is expected to need: the fewest extra canary requests after which the
 * judge would pass if both revisions kept their current figures. An estimate for people ("about
 * 310 more canary requests, ~80 s at 3.9 req/s") and for `sluice lint`, never a verdict.
 */
import type { EvidenceNeeds } from '../../types.ts';

/** Beyond this many more canary requests a release is said not to pass at its current figures. */
const MOST = 10_000_000;

/**
 * `passesAfter(extra)` says whether the judge would pass after `extra` more canary requests; it
 * must turn true and stay true as extra grows. `guess` (an approximation) saves most of the probes.
 */
export function requestsToPass(passesAfter: (extra: number) => boolean, guess?: number): number | null {
  let below = 0;
  let extra = 1;
  if (guess !== undefined && Number.isFinite(guess) && guess > 1) {
    // Walk down from a guess that passes, or up from one that does not, by 25% at a time.
    extra = Math.min(MOST, Math.ceil(guess));
    if (passesAfter(extra)) {
      while (extra > 1) {
        const lower = Math.floor(extra * 0.75);
        if (lower < 1 || !passesAfter(lower)) {
          below = Math.max(0, lower);
          break;
        }
        extra = lower;
      }
    } else {
      below = extra;
      extra = Math.ceil(extra * 1.25);
    }
  }
  while (extra <= MOST && !passesAfter(extra)) {
    below = extra;
    extra = Math.ceil(extra * 1.5);
  }
  if (extra > MOST) return null;
  // Narrow down between the last miss and the first hit to about 5%.
  while (extra - below > Math.max(1, extra * 0.05)) {
    const mid = Math.floor((below + extra) / 2);
    if (passesAfter(mid)) extra = mid;
    else below = mid;
  }
  return roundUp(extra);
}

/** Two significant figures, rounded up: an estimate should not promise less than it needs. */
function roundUp(n: number): number {
  if (n < 100) return n;
  const scale = 10 ** (Math.floor(Math.log10(n)) - 1);
  return Math.ceil(n / scale) * scale;
}

export function estimateNeeds(
  passesAfter: (extra: number) => boolean,
  canaryRps: number | null,
  guess?: number,
): EvidenceNeeds {
  const canaryRequests = requestsToPass(passesAfter, guess);
  const rps = canaryRps !== null && canaryRps > 0 ? canaryRps : null;
  return {
    canaryRequests,
    canaryRps: rps,
    seconds: canaryRequests !== null && rps !== null ? canaryRequests / rps : null,
  };
}

/**
 * A first guess of the requests at which an upper confidence bound on a rate p falls to `limit`,
 * from the usual approximation bound ≈ p + √(2pL/n) + L/n with L ≈ ln(1/α) + ½ ln n + 1.
 */
export function rateGuess(p: number, limit: number, alpha: number): number {
  const gap = limit - p;
  if (!(gap > 0)) return Infinity;
  let n = 100;
  for (let i = 0; i < 3; i++) {
    const L = Math.log(1 / alpha) + 0.5 * Math.log(n) + 1;
    const b = Math.sqrt(2 * p * L);
    const x = (-b + Math.sqrt(b * b + 4 * L * gap)) / (2 * L);
    n = 1 / (x * x);
  }
  return n;
}
