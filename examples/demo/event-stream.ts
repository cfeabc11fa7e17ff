/**
 * Follows GET /api/events?service=NAME (server-sent events) and hands each event to a callback
 * as it happens. A dropped stream (once) or an unreadable event is reported through `onError`;
 * the demo's waits poll the status, so losing the stream costs narration, never correctness.
 */
import http from 'node:http';
import type { ServiceEvent } from '../../src/core/events.ts';

export interface EventStream {
  /** Resolves once the server has answered with the stream (so no later event is missed). */
  opened: Promise<void>;
  close(): void;
}

export function followEvents(
  apiUrl: string,
  service: string,
  onEvent: (e: ServiceEvent) => void,
  onError: (err: Error) => void,
  token?: string,
): EventStream {
  let closed = false;
  let buffer = '';
  const fail = (err: Error) => {
    if (closed) return;
    closed = true;
    onError(err);
  };
  const req = http.get(`${apiUrl}/api/events?service=${encodeURIComponent(service)}`, {
    headers: { accept: 'text/event-stream', ...(token !== undefined && { authorization: `Bearer ${token}` }) },
  });
  const opened = new Promise<void>((resolve, reject) => {
    req.once('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET /api/events answered ${res.statusCode}`));
        return;
      }
      resolve();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        // Events end with a blank line; keep a partial one for the next chunk.
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n');
          if (data === '') continue;
          try {
            onEvent(JSON.parse(data) as ServiceEvent);
          } catch (err) {
            onError(
              new Error(
                `event stream: cannot read an event (${err instanceof Error ? err.message : String(err)}): ${data.slice(0, 200)}`,
              ),
            );
          }
        }
      });
      res.on('end', () => fail(new Error('event stream closed by the server; the narration stops here')));
      res.on('error', (err) => fail(new Error(`event stream lost (${err.message}); the narration stops here`)));
    });
    req.once('error', (err) => {
      reject(err);
      fail(new Error(`event stream lost (${err.message}); the narration stops here`));
    });
  });
  opened.catch(() => {});
  return {
    opened,
    close: () => {
      closed = true;
      req.destroy();
    },
  };
}
