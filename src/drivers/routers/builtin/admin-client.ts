/**
 * Calls to the proxy's admin API: a short timeout and one retry, so a controller never hangs on
 * a stuck or dead proxy. PUT /routes is idempotent, so retrying it is safe. Every call carries the
 * proxy's admin secret (admin-secret.ts).
 */
import { bearer } from './admin-secret.ts';

export interface AdminReply {
  status: number;
  body: unknown;
}

const TIMEOUT_MS = 2000;

function describe(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS} ms`;
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

export async function adminCall(
  baseUrl: string,
  secret: string,
  method: 'GET' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<AdminReply> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { ...bearer(secret), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      const text = await res.text();
      return { status: res.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(`${method} ${baseUrl}${path} failed: ${describe(lastError)}`);
}

/** The `error` field of an admin error reply, or the status. */
export function replyError(reply: AdminReply): string {
  const error = (reply.body as { error?: unknown } | null)?.error;
  return typeof error === 'string' ? error : `HTTP ${reply.status}`;
}
