import { createHash } from 'node:crypto';

/**
 * The audit chain: every stored event carries `prev_hash` (the hash of the event before it) and
 * `hash = sha256(prev_hash || canonical JSON of the event)`, so an edit or deletion of any past
 * event breaks every hash after it. Both stores compute it with these functions; `audit verify`
 * recomputes it with them.
 */

/** The prev_hash of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * JSON with object keys sorted at every level and no whitespace (the shape of RFC 8785 for the
 * values events hold: strings, finite numbers, booleans, null, arrays, objects), so the same event
 * always hashes the same whatever order its fields were written in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    // undefined never reaches here through JSON.parse; a non-finite number is stored as null by JSON.
    return JSON.stringify(value) ?? 'null';
  }
  // Built by concatenation, without the intermediate arrays of entries: it runs for every event
  // committed. The same text as before, byte for byte (event-hash.test.ts).
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      if (i in value) out += canonicalJson(value[i]);
    }
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  // Object keys are unique: the default sort (UTF-16 code units) is the order `a < b` gives.
  const keys = Object.keys(object).sort();
  let out = '{';
  for (const k of keys) {
    const v = object[k];
    if (v === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

/** sha256(prevHash || canonicalJson(event)) as lowercase hex; `event` is the event as read back (body + service, at, actor, seq). */
export function eventHash(prevHash: string, event: object): string {
  return createHash('sha256').update(prevHash).update(canonicalJson(event)).digest('hex');
}
