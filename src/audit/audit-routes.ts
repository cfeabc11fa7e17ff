import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Store } from '../store/types.ts';
import { exportEvents } from './export-events.ts';
import { parseSince } from './since.ts';
import { verifyStore } from './verify-chain.ts';

export const verifyQuery = z.object({
  /** SEQ:HASH from an earlier verify, kept elsewhere: the chain must still have it. */
  anchor: z
    .string()
    .regex(/^\d+:[0-9a-f]{64}$/, 'anchor is SEQ:HASH, as printed by sluice audit verify')
    .optional(),
});

export const exportQuery = z.object({
  since: z
    .string()
    .refine(
      (s) => parseSince(s, 0) !== null,
      'since is an ISO time (2026-11-01T00:00:00Z) or a span back from now (24h, 7d)',
    )
    .optional(),
});

/** GET /api/audit/verify and GET /api/audit/export (viewer: the events are readable to viewers anyway). */
export function registerAuditRoutes(app: FastifyInstance, store: Store, now: () => number = Date.now): void {
  app.get('/api/audit/verify', async (req) => {
    const { anchor } = verifyQuery.parse(req.query);
    const [seq, hash] = anchor?.split(':') ?? [];
    return verifyStore(store, { anchor: anchor === undefined ? null : { seq: Number(seq), hash: hash! } });
  });
  app.get('/api/audit/export', async (req, reply) => {
    const { since } = exportQuery.parse(req.query);
    const from = since === undefined ? 0 : parseSince(since, now())!;
    return reply.type('application/x-ndjson').send(Readable.from(exportEvents(store, from)));
  });
}
