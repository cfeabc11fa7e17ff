import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './errors.ts';

/** The CLI's HTTP client: JSON in and out, errors turned into messages a person can act on. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: unknown;
  constructor(status: number, code: string, message: string, detail: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

export class Unreachable extends Error {}

export interface Client {
  server: string;
  /** The Authorization header (when a token was found), for calls made without get/post/delete (the event stream). */
  headers: Record<string, string>;
  get<T>(path: string): Promise<T>;
  /** `timeoutMs`: how long to wait for the answer (default 30 s; a rollback rehearsal takes longer). */
  post<T>(path: string, body?: unknown, timeoutMs?: number): Promise<T>;
  delete<T>(path: string): Promise<T>;
}

export function serverUrl(flag: string | undefined): string {
  return (flag ?? process.env.SLUICE_SERVER ?? 'http://127.0.0.1:7070').replace(/\/+$/, '');
}

/**
 * The token to send: --token, else SLUICE_TOKEN, else `<data-dir>/admin.token` when --data-dir
 * was given (a server's own machine). Null: calls go without one and the server says what it needs.
 */
export function findToken(flag: string | undefined, dataDir: string | undefined): string | null {
  const given = flag ?? process.env.SLUICE_TOKEN;
  if (given !== undefined && given.trim() !== '') return given.trim();
  if (dataDir === undefined) return null;
  try {
    return readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  } catch (err) {
    throw new UsageError(
      `cannot read the admin token in ${join(dataDir, 'admin.token')} (${(err as NodeJS.ErrnoException).code}); pass --token or SLUICE_TOKEN`,
    );
  }
}

export function client(server: string, token: string | null = null): Client {
  const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
  const call = async <T>(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(`${server}${path}`, {
        method,
        headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new Unreachable(
        `cannot reach the sluice server at ${server} (${cause}); start one with \`sluice server\` or pass --server URL / SLUICE_SERVER`,
      );
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      throw new ApiError(
        res.status,
        'BAD_RESPONSE',
        `the server answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`,
        null,
      );
    }
    if (!res.ok) {
      const e = (json as { error?: { code: string; message: string; detail?: unknown } })?.error;
      throw new ApiError(res.status, e?.code ?? 'HTTP_ERROR', e?.message ?? `HTTP ${res.status}`, e?.detail);
    }
    return json as T;
  };
  return {
    server,
    headers,
    get: (p) => call('GET', p),
    post: (p, b, timeoutMs) => call('POST', p, b ?? {}, timeoutMs),
    delete: (p) => call('DELETE', p),
  };
}
