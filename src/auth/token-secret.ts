import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API tokens look like `slu_<id>_<secret>`: the id (public, shown by `token list`) finds the
 * record, the secret is 32 random bytes. Only sha256 of the whole token is stored, and it is
 * compared in constant time.
 */
export const TOKEN_PREFIX = 'slu_';
const SHAPE = /^slu_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewSecret {
  id: string;
  token: string;
  hash: string;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newSecret(): NewSecret {
  const id = randomBytes(6).toString('hex');
  const token = `${TOKEN_PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
  return { id, token, hash: hashToken(token) };
}

/** The id a presented token claims, or null when it is not shaped like a Sluice token. */
export function tokenId(token: string): string | null {
  return SHAPE.exec(token)?.[1] ?? null;
}

export function matches(token: string, storedHash: string): boolean {
  const a = Buffer.from(hashToken(token), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
