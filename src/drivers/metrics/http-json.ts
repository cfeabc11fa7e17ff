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

/** The largest answer read (1 MiB): a metrics answer is one number and its labels, not a data dump. */
export const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * `ok` with the parsed body, or why not. What the remote answered is described by its status,
 * content type and length only: its text never reaches a message (events are read by viewers).
 */
export type JsonAnswer =
  { ok: true; status: number; contentType: string; bytes: number; body: unknown } | { ok: false; message: string };

/** `path` joined to `address` as text, so a prefix in the address survives ("/api" + "/v1"). */
export function joinUrl(address: string, path: string): string {
  return address.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`);
}

function cause(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

class TooLarge extends Error {}

/** The body as text, refusing (and aborting the transfer) past `maxBytes`. */
async function readCapped(res: Response, maxBytes: number): Promise<{ text: string; bytes: number }> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new TooLarge();
  }
  if (res.body === null) return { text: '', bytes: 0 };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new TooLarge();
    }
    chunks.push(value);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), bytes };
}

/** "HTTP 502, text/html, 1234 bytes": what an answer was, without what it said. */
export function describeAnswer(status: number, contentType: string, bytes: number): string {
  return `HTTP ${status}, ${contentType || 'no content type'}, ${bytes} bytes`;
}

/**
 * GET `url`, with `timeoutMs` for the whole exchange (connecting, waiting and reading) and at
 * most `maxBytes` read. Any HTTP status with a JSON body is `ok` (the caller reads error bodies,
 * e.g. Prometheus's `{status: "error"}`); a network error, a timeout, a body past the cap or not
 * JSON is not.
 */
export async function getJson(
  url: string,
  headers: HeadersWithSecrets,
  timeoutMs: number,
  maxBytes = MAX_ANSWER_BYTES,
): Promise<JsonAnswer> {
  const signal = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json', ...resolveHeaders(headers) }, signal });
  } catch (err) {
    return { ok: false, message: `GET ${url} failed: ${cause(err, timeoutMs)}` };
  }
  const contentType = res.headers.get('content-type') ?? '';
  let text: string;
  let bytes: number;
  try {
    ({ text, bytes } = await readCapped(res, maxBytes));
  } catch (err) {
    if (err instanceof TooLarge)
      return {
        ok: false,
        message: `GET ${url} answered HTTP ${res.status} with more than ${maxBytes} bytes, the most a metrics answer may have; the rest was not read`,
      };
    return {
      ok: false,
      message: `GET ${url} answered HTTP ${res.status} but reading the body failed: ${cause(err, timeoutMs)}`,
    };
  }
  try {
    return { ok: true, status: res.status, contentType, bytes, body: JSON.parse(text) };
  } catch {
    return {
      ok: false,
      message: `GET ${url} answered ${describeAnswer(res.status, contentType, bytes)}, which is not JSON`,
    };
  }
}
