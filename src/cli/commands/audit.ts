import { createWriteStream } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { VerifyResult } from '../../audit/verify-chain.ts';
import { parseSince } from '../../audit/since.ts';
import { ApiError, type Client } from '../client.ts';
import { type CommandDef, EXIT, UsageError } from '../command.ts';

async function verify(c: Client, anchor: string | undefined, out: (s: string) => void, json: boolean): Promise<number> {
  if (anchor !== undefined && !/^\d+:[0-9a-f]{64}$/.test(anchor))
    throw new UsageError(`--anchor "${anchor}" is not SEQ:HASH as printed by an earlier sluice audit verify`);
  const r = await c.get<VerifyResult>(`/api/audit/verify${anchor ? `?anchor=${anchor}` : ''}`);
  if (json) out(JSON.stringify(r, null, 2));
  else if (r.ok)
    out(
      `audit trail intact: ${r.checked} events chained${r.head ? `; head ${r.head.seq}:${r.head.hash} (keep it elsewhere, pass it as --anchor later)` : ''}`,
    );
  else
    out(
      `audit trail BROKEN at event ${r.firstBad!.seq}: ${r.firstBad!.reason} (${r.checked} events before it verified)`,
    );
  return r.ok ? EXIT.ok : EXIT.failed;
}

/** Streams the export to stdout or a file as it arrives: a long log is never held in memory. */
async function exportLog(
  c: Client,
  since: string | undefined,
  file: string | undefined,
  asArray: boolean,
): Promise<number> {
  if (since !== undefined && parseSince(since, Date.now()) === null)
    throw new UsageError(
      `--since "${since}" is neither an ISO time (2026-11-01T00:00:00Z) nor a span back from now (24h, 7d)`,
    );
  const res = await fetch(`${c.server}/api/audit/export${since ? `?since=${encodeURIComponent(since)}` : ''}`, {
    headers: c.headers,
  });
  if (!res.ok) {
    const e = ((await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null)?.error;
    throw new ApiError(res.status, e?.code ?? 'HTTP_ERROR', e?.message ?? `HTTP ${res.status}`, null);
  }
  const sink = file === undefined || file === '-' ? process.stdout : createWriteStream(file, { mode: 0o600 });
  let body = Readable.fromWeb(res.body! as import('node:stream/web').ReadableStream);
  if (asArray) {
    // -o json: the same events as one JSON array.
    const lines: string[] = [];
    let rest = '';
    for await (const chunk of body) {
      const parts = (rest + String(chunk)).split('\n');
      rest = parts.pop()!;
      lines.push(...parts.filter((l) => l !== ''));
    }
    body = Readable.from([`[${lines.join(',\n')}]\n`]);
  }
  await pipeline(body, sink as Writable, { end: sink !== process.stdout });
  return EXIT.ok;
}

export const auditCommand: CommandDef = {
  name: 'audit',
  summary:
    'the hash-chained audit trail: verify (exit 1 naming the first bad event) · export --since 24h|ISO [-o jsonl]',
  usage:
    'sluice audit verify [--anchor SEQ:HASH] | sluice audit export [--since 24h|2026-11-01T00:00:00Z] [-o jsonl|json] [--out FILE]',
  options: { anchor: { type: 'string' }, since: { type: 'string' }, out: { type: 'string' } },
  args: ['action'],
  outputs: ['jsonl'],
  async run({ positionals, values, client, out, json, output }) {
    const [action] = positionals;
    if (action === 'verify') return verify(client(), values.anchor as string | undefined, out, json);
    if (action === 'export')
      return exportLog(
        client(),
        values.since as string | undefined,
        values.out as string | undefined,
        output === 'json',
      );
    throw new UsageError(`unknown action "${action}"; valid: verify, export`);
  },
};
