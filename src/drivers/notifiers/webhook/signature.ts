/**
 * `X-Sluice-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. Signing the
 * timestamp with the body lets a receiver refuse replays: it checks the HMAC, then that t is recent.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-sluice-signature';

export function signature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * What a receiver does (exported for receivers written in TypeScript, and for the tests): null when
 * the header is valid for `body` and no older than `toleranceSec`, else why not.
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: string,
  nowSec: number,
  toleranceSec = 300,
): string | null {
  if (!header) return 'no X-Sluice-Signature header';
  const parts = Object.fromEntries(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || typeof parts.v1 !== 'string') return 'malformed signature header';
  if (Math.abs(nowSec - t) > toleranceSec) return `timestamp ${t} is more than ${toleranceSec}s from now`;
  const expected = Buffer.from(signature(secret, body, t).split('v1=')[1]!, 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) ? null : 'signature does not match';
}
