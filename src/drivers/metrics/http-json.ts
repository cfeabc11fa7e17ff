/**
 * One bounded GET of a JSON document, for the query providers (prometheus, web). Every failure
 * comes back as a sentence naming the URL and what went wrong; nothing here throws.
 */
import { z } from 'zod';
import { duration } from '../../core/units.ts';
import { headersWithSecrets, resolveHeaders, type HeadersWithSecrets } from '../secrets.ts';

/** Fields shared by the providers that query an HTTP endpoint. */
export const httpEndpointFields = {
  /** Base URL; a path prefix is kept (http://host/prometheus). */
  address: z.url({ protocol: /^https?$/, error: 'write an http(s) URL, e.g. http://127.0.0.1:9090' }),
  /** One query's whole budget: connecting, waiting and reading the answer. */
  timeout: duration.prefault('5s'),
  /** Sent with every request; a credential as a reference, e.g. { Authorization: { secretEnv: PROMETHEUS_AUTH } }. */
  headers: headersWithSecrets,
};

export type JsonAnswer = { ok: true; status: number; body: unknown } | { ok: false; message: string };

/** `path` joined to `address` as text, so a prefix in the address survives ("/api" + "/v1"). */
export function joinUrl(address: string, path: string): string {
  return address.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`);
}

function cause(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

/**
 * GET `url`. Any HTTP status with a JSON body is `ok` (the caller reads error bodies, e.g.
 * Prometheus's `{status: "error"}`); a network error, a timeout or a non-JSON body is not.
 */
export async function getJson(url: string, headers: HeadersWithSecrets, timeoutMs: number): Promise<JsonAnswer> {
  const signal = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json', ...resolveHeaders(headers) }, signal });
  } catch (err) {
    return { ok: false, message: `GET ${url} failed: ${cause(err, timeoutMs)}` };
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    return { ok: false, message: `GET ${url} answered HTTP ${res.status} but reading the body failed: ${cause(err, timeoutMs)}` };
  }
  try {
    return { ok: true, status: res.status, body: JSON.parse(text) };
  } catch {
    const excerpt = text.length > 120 ? `${text.slice(0, 120)}…` : text;
    return { ok: false, message: `GET ${url} answered HTTP ${res.status} with a body that is not JSON: ${JSON.stringify(excerpt)}` };
  }
}
