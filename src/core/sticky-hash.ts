/**
 * One stable, cheap hash for stickiness and placement: 32-bit FNV-1a over the text's UTF-16 code
 * units, finished with murmur3's avalanche (texts differing in one letter land far apart). The
 * built-in proxy's cohorts and sticky ranges, HAProxy's fault cohorts (its Lua port) and the lease
 * placement all use it, so one user lands in the same cohort behind either router.
 */
export function stickyHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The hash mapped to [0,1). */
export function stickyPoint(key: string): number {
  return stickyHash(key) / 4294967296;
}
