/**
 * The admin API's fault routes (drills, docs/drills.md):
 *   GET    /faults                 → { now, faults: ActiveFault[] } (hits, first and last hit by the proxy's clock)
 *   PUT    /faults  { faults }     → add (or replace by id) → { ok, now, faults }; 400 naming the bad field
 *   DELETE /faults[?id=a&id=b]     → remove those (all without `id`) → { ok, now, removed: ActiveFault[] }
 * Faults live in memory only: a restarted proxy injects none.
 */
import { checkFaultRules } from '../core/drills/fault.ts';
import type { FaultBook } from './fault-book.ts';

export interface FaultReply {
  status: number;
  body: unknown;
}

/** At most this many faults at once: a drill has a few; a runaway caller gets a 400. */
export const MAX_FAULTS = 1000;

export async function faultRoute(
  faults: FaultBook,
  method: string,
  url: URL,
  body: () => Promise<string | null>,
  now: () => number,
): Promise<FaultReply> {
  if (method === 'GET') {
    const at = now();
    return { status: 200, body: { now: at, faults: faults.list(at) } };
  }
  if (method === 'DELETE') {
    const ids = url.searchParams.getAll('id');
    const removed = faults.clear(ids.length === 0 ? undefined : ids);
    return { status: 200, body: { ok: true, now: now(), removed } };
  }
  const text = await body();
  if (text === null) return { status: 413, body: { error: 'fault list too large' } };
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (err) {
    return { status: 400, body: { error: `faults are not valid JSON: ${(err as Error).message}` } };
  }
  const check = checkFaultRules((input as { faults?: unknown } | null)?.faults);
  if (!check.ok) return { status: 400, body: { error: `invalid faults: ${check.message}` } };
  if (faults.size + check.value.length > MAX_FAULTS)
    return { status: 400, body: { error: `at most ${MAX_FAULTS} faults at once; ${faults.size} are held` } };
  const at = now();
  return { status: 200, body: { ok: true, now: at, faults: faults.set(check.value, at) } };
}
