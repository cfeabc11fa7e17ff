/**
 * MurmurHash3 x86 32-bit of a string's UTF-8 bytes (Austin Appleby's reference), the hash
 * Unleash buckets users with. The bytes are produced as they are hashed, so a call allocates
 * nothing. Verified against Unleash's client-specification vectors (murmur3.test.ts).
 */
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixBlock(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** The unsigned 32-bit hash of `text` encoded as UTF-8, with `seed`. */
export function murmur3(text: string, seed = 0): number {
  return isAscii(text) ? murmur3Ascii(text, seed) : murmur3Utf8(text, seed);
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** The common case (keys, ids): one byte per character, four at a time. */
function murmur3Ascii(text: string, seed: number): number {
  let h = seed | 0;
  const n = text.length;
  const body = n - (n % 4);
  for (let i = 0; i < body; i += 4) {
    h = mixBlock(
      h,
      text.charCodeAt(i) |
        (text.charCodeAt(i + 1) << 8) |
        (text.charCodeAt(i + 2) << 16) |
        (text.charCodeAt(i + 3) << 24),
    );
  }
  let k = 0;
  for (let i = n - 1; i >= body; i--) k = (k << 8) | text.charCodeAt(i);
  if (n > body) {
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
  }
  return finish(h, n);
}

function finish(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function murmur3Utf8(text: string, seed: number): number {
  let h = seed | 0;
  let block = 0;
  let filled = 0; // bytes in `block`
  let length = 0;
  const push = (byte: number) => {
    block |= byte << (filled * 8);
    length++;
    if (++filled === 4) {
      h = mixBlock(h, block);
      block = 0;
      filled = 0;
    }
  };
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      push(c);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // a lone surrogate encodes as U+FFFD, as TextEncoder does
    if (c < 0x800) {
      push(0xc0 | (c >> 6));
    } else if (c < 0x10000) {
      push(0xe0 | (c >> 12));
      push(0x80 | ((c >> 6) & 0x3f));
    } else {
      push(0xf0 | (c >> 18));
      push(0x80 | ((c >> 12) & 0x3f));
      push(0x80 | ((c >> 6) & 0x3f));
    }
    push(0x80 | (c & 0x3f));
  }
  if (filled > 0) {
    let k = Math.imul(block, C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
  }
  return finish(h, length);
}
