import type {
  DependencyGraph,
  EnvironmentsView,
  ReleaseTimeline,
  ReleaseView,
  Revision,
  RevisionSummary,
  ServiceEvent,
  ServiceStatus,
  TrainView,
  VerdictSeries,
} from '../../src/views/index.ts';

/** The pages read the wire's shapes from here, beside the calls that fetch them. */
export type * from '../../src/views/index.ts';
export type Command = 'promote' | 'pause' | 'resume' | 'abort' | 'retry' | 'undo';

/** An API error, with the server's code and message (which says what would be valid). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const TOKEN_KEY = 'sluice.token';

/** The API token (Authorization: Bearer), kept in this browser only; null when none was given. */
export function token(): string | null {
  return localStorage.getItem(TOKEN_KEY)?.trim() || null;
}
export function setToken(value: string | null): void {
  if (value === null || value.trim() === '') localStorage.removeItem(TOKEN_KEY);
  else localStorage.setItem(TOKEN_KEY, value.trim());
  authWatchers.forEach((w) => w());
}

/** Told when the server refuses the token (401) or a new one is set, so the app can ask for one. */
const authWatchers = new Set<() => void>();
let refused = false;
export const auth = {
  watch: (w: () => void) => (authWatchers.add(w), () => authWatchers.delete(w)),
  refused: () => refused,
};
function noteAuth(status: number): void {
  const now = status === 401;
  if (now === refused) return;
  refused = now;
  authWatchers.forEach((w) => w());
}

/** Resolves at the next change of token or of its acceptance, or when `signal` aborts. */
function authChange(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      authWatchers.delete(done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    authWatchers.add(done);
    signal.addEventListener('abort', done);
  });
}

/**
 * The only place requests are made: credentials are added here and nowhere else. With a token the
 * server records its name as the actor; X-Sluice-Actor names the client to servers without tokens.
 */
function headers(extra: Record<string, string> = {}): Record<string, string> {
  const t = token();
  return { 'x-sluice-actor': 'dashboard', ...(t !== null && { authorization: `Bearer ${t}` }), ...extra };
}

export async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: headers(body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...(body !== undefined && { body: JSON.stringify(body) }),
    ...(signal !== undefined && { signal }),
  });
  noteAuth(res.status);
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(
      res.status,
      'BAD_RESPONSE',
      `${method} ${path}: the server answered ${res.status} with something that is not JSON`,
    );
  }
  if (!res.ok) {
    const e = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, e?.code ?? 'HTTP', e?.message ?? `${method} ${path} failed with ${res.status}`);
  }
  return parsed as T;
}

const svc = (name: string) => `/api/services/${encodeURIComponent(name)}`;

export interface Identity {
  name: string;
  role: string;
  expiresAt: string | null;
}

export const api = {
  /** Who the token is (null when the server has no tokens). */
  whoami: (signal?: AbortSignal) =>
    request<Identity>('GET', '/api/whoami', undefined, signal).catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }),
  services: (signal?: AbortSignal) =>
    request<{ services: ServiceStatus[] }>('GET', '/api/services', undefined, signal).then((r) => r.services),
  status: (name: string, signal?: AbortSignal) => request<ServiceStatus>('GET', svc(name), undefined, signal),
  history: (name: string, signal?: AbortSignal) =>
    request<{ releases: ReleaseView[] }>('GET', `${svc(name)}/history`, undefined, signal).then((r) => r.releases),
  revisions: (name: string, signal?: AbortSignal) =>
    request<{ revisions: RevisionSummary[] }>('GET', `${svc(name)}/revisions`, undefined, signal).then(
      (r) => r.revisions,
    ),
  revision: (name: string, key: string, signal?: AbortSignal) =>
    request<Revision>('GET', `${svc(name)}/revisions/${key}`, undefined, signal),
  timeline: (name: string, n: number, signal?: AbortSignal) =>
    request<ReleaseTimeline>('GET', `${svc(name)}/releases/${n}`, undefined, signal),
  verdicts: (name: string, n: number, maxPoints: number, signal?: AbortSignal) =>
    request<VerdictSeries>('GET', `${svc(name)}/releases/${n}/verdicts?maxPoints=${maxPoints}`, undefined, signal),
  environments: (name: string, signal?: AbortSignal) =>
    request<EnvironmentsView>('GET', `${svc(name)}/environments`, undefined, signal),
  approve: (name: string, environment: string, comment: string) =>
    request<unknown>('POST', `${svc(name)}/approve`, { environment, ...(comment && { comment }) }),
  override: (name: string, environment: string, gate: string, reason: string) =>
    request<unknown>('POST', `${svc(name)}/override`, { environment, gate, reason }),
  graph: (signal?: AbortSignal) => request<DependencyGraph>('GET', '/api/graph', undefined, signal),
  trains: (signal?: AbortSignal) =>
    request<{ trains: TrainView[] }>('GET', '/api/trains', undefined, signal).then((r) => r.trains),
  train: (name: string, signal?: AbortSignal) =>
    request<TrainView>('GET', `/api/trains/${encodeURIComponent(name)}`, undefined, signal),
  command: (name: string, command: Command, body: { full?: boolean; reason?: string; toRevision?: string } = {}) =>
    request<ServiceStatus>('POST', `${svc(name)}/${command}`, body),
};

/**
 * GET /api/events read with fetch rather than EventSource, so that it carries the same headers as
 * every other request. Reconnects with `after=<last seq>`: no event is lost or seen twice.
 */
export function streamEvents(
  onEvent: (e: ServiceEvent) => void,
  onState: (s: 'live' | 'offline' | 'signed-out') => void,
): () => void {
  const stop = new AbortController();
  let lastSeq: number | null = null;
  const run = async () => {
    let delay = 500;
    while (!stop.signal.aborted) {
      try {
        const res = await fetch(`/api/events${lastSeq === null ? '' : `?after=${lastSeq}`}`, {
          headers: headers({ accept: 'text/event-stream' }),
          signal: stop.signal,
        });
        noteAuth(res.status);
        if (res.status === 401) {
          // Not offline: the server is there and wants a token. Wait for one instead of retrying.
          onState('signed-out');
          await authChange(stop.signal);
          continue;
        }
        if (!res.ok || res.body === null) throw new Error(`event stream answered ${res.status}`);
        onState('live');
        delay = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = frame
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            if (data === '') continue;
            const e = JSON.parse(data) as ServiceEvent;
            lastSeq = e.seq;
            onEvent(e);
          }
        }
      } catch {
        // offline or aborted: reported below, then retried
      }
      if (stop.signal.aborted) return;
      onState('offline');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  };
  void run();
  return () => stop.abort();
}
