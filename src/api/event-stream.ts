import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServiceEvent } from '../core/events.ts';
import type { Engine } from '../engine/engine.ts';
import type { Store } from '../store/types.ts';

/**
 * GET /api/events: server-sent events. Replays the log after `after` (or Last-Event-ID), then
 * streams live events with no gap and no duplicate: live events are buffered while the replay runs.
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
  let replaying = true;
  const buffered: ServiceEvent[] = [];
  const res = reply.raw;
  const write = (e: ServiceEvent) => {
    if (e.seq <= sent) return;
    sent = e.seq;
    res.write(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
  };
  const unsubscribe = engine.bus.subscribe((e) => {
    if (!wanted(e)) return;
    if (replaying) buffered.push(e);
    else write(e);
  });
  reply.hijack();
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write(': sluice event stream\n\n');
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  req.raw.on('close', () => {
    clearInterval(heartbeat);
    unsubscribe();
  });
  if (after !== undefined) {
    const past = await store.events({ afterSeq: after, ...(query.service !== undefined && { service: query.service }) });
    for (const e of past) write(e);
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
