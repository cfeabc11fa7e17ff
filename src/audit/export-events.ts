import type { ChainRow, Store } from '../store/types.ts';

/**
 * One line of `audit export`: the event as the API shows it plus `prevHash` and `hash`, so a
 * compliance tool can check the chain itself (docs/audit.md says how).
 */
export function exportLine(row: ChainRow): string {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(row.body) as Record<string, unknown>;
  } catch {
    // A tampered body is exported as found: the export is evidence, not a cleaned-up copy.
    body = { type: row.type, unreadableBody: row.body };
  }
  return JSON.stringify({
    ...body,
    service: row.service,
    at: row.at,
    time: new Date(row.at).toISOString(),
    actor: row.actor,
    seq: row.seq,
    prevHash: row.prevHash,
    hash: row.hash,
  });
}

/** The log's events at or after `since` (epoch ms), as JSON lines, read a page at a time. */
export async function* exportEvents(store: Store, since: number, pageSize = 5000): AsyncGenerator<string> {
  let after = 0;
  for (;;) {
    const rows = await store.chain({ afterSeq: after, limit: pageSize });
    for (const row of rows) if (row.at >= since) yield `${exportLine(row)}\n`;
    if (rows.length < pageSize) return;
    after = rows.at(-1)!.seq;
  }
}
