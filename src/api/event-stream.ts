import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServiceEvent } from '../core/events.ts';
import { type Engine } from '../engine/index.ts';
import type { Store } from '../store/types.ts';
import { Semaphore } from './semaphore.ts';

/** Events read from the store per page of a replay; the loop runs between pages. */
export const REPLAY_PAGE = 200;
/** Replays running at once; more clients wait their turn (connected, with nothing sent yet). */
export const CONCURRENT_REPLAYS = 4;
/** Live events held for one client while its replay runs; past that they are re-read from the store. */
const LIVE_BUFFER = 500;
/** Bytes written to a client and not yet taken by it; past that the stream is ended (the client resumes with Last-Event-ID). */
export const CLIENT_BACKLOG_BYTES = 1024 * 1024;

const replays = new Semaphore(CONCURRENT_REPLAYS);

/**
 * GET /api/events: server-sent events. Replays the log after `after` (or Last-Event-ID), then
 * streams live events with no gap and no duplicate. The replay is read from the store a page at
 * a time, waits for the client to take each page (backpressure), and yields the loop between
 * pages; a few replays run at once. So a client's memory is a page and a bounded backlog, and
 * hundreds of clients replaying a long log cannot hold up the control loop.
 */
export async function streamEvents(
  req: FastifyRequest,
  reply: FastifyReply,
  engine: Engine,
  store: Store,
  query: { service?: string | undefined; after?: number | undefined },
): Promise<void> {
  const lastId = Number(req.headers['last-event-id']);
  const after = query.after ?? (Number.isFinite(lastId) ? lastId : undefined);
  const wanted = (e: ServiceEvent) => query.service === undefined || e.service === query.service;
  // The last sequence number written: replayed and live events are written once each, in order.
  let sent = after ?? 0;
  let replaying = after !== undefined;
  let closed = false;
  let buffered: ServiceEvent[] = [];
  let overflowed = false;
  const res = reply.raw;
  const send = (text: string) => {
    if (closed || res.destroyed) return;
    res.write(text);
    // A client that does not read: end its stream rather than hold its backlog in memory.
    if (res.writableLength > CLIENT_BACKLOG_BYTES) res.destroy();
  };
  const write = (e: ServiceEvent) => {
    if (e.seq <= sent) return;
    sent = e.seq;
    send(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
  };
  const unsubscribe = engine.bus.subscribe((e) => {
    if (!wanted(e)) return;
    if (!replaying) write(e);
    else if (buffered.length < LIVE_BUFFER) buffered.push(e);
    else overflowed = true;
  });
  reply.hijack();
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  send(': sluice event stream\n\n');
  const heartbeat = setInterval(() => send(': keep-alive\n\n'), 15_000);
  res.once('close', () => {
    closed = true;
    clearInterval(heartbeat);
    unsubscribe();
  });
  if (!replaying) return;
  const release = await replays.acquire();
  try {
    for (;;) {
      if (closed) return;
      const page = await store.events({
        afterSeq: sent,
        limit: REPLAY_PAGE,
        ...(query.service !== undefined && { service: query.service }),
      });
      for (const e of page) write(e);
      if (res.writableNeedDrain && !closed)
        await new Promise((resolve) => {
          res.once('drain', resolve);
          res.once('close', resolve);
        });
      if (page.length < REPLAY_PAGE && !overflowed) break;
      // Live events the buffer could not hold are in the store: the next pages read them.
      if (overflowed) {
        overflowed = false;
        buffered = [];
      } else buffered = buffered.filter((e) => e.seq > sent);
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    release();
  }
  replaying = false;
  for (const e of buffered.splice(0)) write(e);
}

/**
 * An open event stream (every dashboard tab holds one) would keep `app.close()` waiting forever, so
 * `sluice server` would not stop on Ctrl-C: the streams are ended before the server closes.
 */
export function endStreamsOnClose(app: FastifyInstance): void {
  const streams = new Set<ServerResponse>();
  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'GET' || req.url.split('?')[0] !== '/api/events') return;
    const res = reply.raw;
    streams.add(res);
    res.once('close', () => streams.delete(res));
  });
  app.addHook('preClose', async () => {
    for (const res of streams) {
      res.end();
      res.socket?.end();
    }
  });
}
