import { eventHash, GENESIS_HASH } from '../store/event-hash.ts';
import type { ChainHead, ChainRow, Store } from '../store/types.ts';

/** The first entry of the log that fails the chain, and why, in words an auditor can act on. */
export interface ChainProblem {
  seq: number;
  reason: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Events whose hash was recomputed. */
  checked: number;
  /** The head recorded beside the log: keep it elsewhere (an anchor) to detect a rewritten chain. */
  head: ChainHead | null;
  firstBad: ChainProblem | null;
}

/** A hash the caller kept from an earlier verify or export: event `seq` must still have it. */
export type Anchor = ChainHead;

/**
 * Recomputes the chain event by event, in seq order, and stops at the first problem. Fed page by
 * page, so a log of any length is verified in constant memory.
 */
export class ChainVerifier {
  #prevHash = GENESIS_HASH;
  #prevSeq = 0;
  #checked = 0;
  #problem: ChainProblem | null = null;
  readonly #anchor: Anchor | null;

  constructor(anchor: Anchor | null = null) {
    this.#anchor = anchor;
  }

  get problem(): ChainProblem | null {
    return this.#problem;
  }

  /** False once a problem was found (later rows are not looked at). */
  add(row: ChainRow): boolean {
    if (this.#problem !== null) return false;
    this.#problem = this.#check(row);
    if (this.#problem !== null) return false;
    this.#checked++;
    this.#prevHash = row.hash!;
    this.#prevSeq = row.seq;
    return true;
  }

  #check(row: ChainRow): ChainProblem | null {
    const seq = row.seq;
    if (seq !== this.#prevSeq + 1)
      return { seq: this.#prevSeq + 1, reason: `${missing(this.#prevSeq + 1, seq - 1)}: deleted from the log` };
    if (row.hash === null || row.prevHash === null)
      return { seq, reason: `event ${seq} has no hash: it was written outside Sluice` };
    if (row.prevHash !== this.#prevHash) {
      return {
        seq,
        reason: `event ${seq} does not chain to event ${seq - 1} (prev_hash ${short(row.prevHash)} ≠ ${short(this.#prevHash)}): one of the two was rewritten`,
      };
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(row.body) as Record<string, unknown>;
    } catch {
      return { seq, reason: `event ${seq} was changed: its body is no longer JSON` };
    }
    if (body.type !== row.type)
      return {
        seq,
        reason: `event ${seq} was changed: its type column says ${row.type}, its body ${String(body.type)}`,
      };
    const hash = eventHash(row.prevHash, { ...body, service: row.service, at: row.at, actor: row.actor, seq });
    if (hash !== row.hash)
      return {
        seq,
        reason: `event ${seq} (${row.type}, ${row.service}) was changed after it was written: its content no longer matches its hash`,
      };
    if (this.#anchor !== null && this.#anchor.seq === seq && this.#anchor.hash !== row.hash) {
      return {
        seq,
        reason: `event ${seq} differs from the anchor (${short(this.#anchor.hash)}): the chain was rewritten from here or before`,
      };
    }
    return null;
  }

  /** Call after the last row: compares the end of the log with the recorded head (a deleted tail). */
  finish(head: ChainHead | null): VerifyResult {
    if (this.#problem === null) this.#problem = this.#checkEnd(head);
    return { ok: this.#problem === null, checked: this.#checked, head, firstBad: this.#problem };
  }

  #checkEnd(head: ChainHead | null): ChainProblem | null {
    if (head === null)
      return this.#prevSeq === 0
        ? null
        : { seq: this.#prevSeq, reason: 'the recorded head of the log is missing: it was removed outside Sluice' };
    if (head.seq > this.#prevSeq) {
      return {
        seq: this.#prevSeq + 1,
        reason: `${missing(this.#prevSeq + 1, head.seq)}: the end of the log was deleted`,
      };
    }
    if (head.seq !== this.#prevSeq || head.hash !== this.#prevHash)
      return {
        seq: this.#prevSeq,
        reason: `the recorded head (${head.seq}, ${short(head.hash)}) does not match the last event: the log was rewritten`,
      };
    if (this.#anchor !== null && this.#anchor.seq > this.#prevSeq)
      return {
        seq: this.#anchor.seq,
        reason: `the anchor names event ${this.#anchor.seq}, but the log ends at ${this.#prevSeq}`,
      };
    return null;
  }
}

const short = (hash: string) => hash.slice(0, 12);
const missing = (from: number, to: number) =>
  from === to ? `event ${from} is missing` : `events ${from}–${to} are missing`;

/** Verifies a store's whole log, `pageSize` events at a time. */
export async function verifyStore(
  store: Store,
  o: { anchor?: Anchor | null; pageSize?: number } = {},
): Promise<VerifyResult> {
  const verifier = new ChainVerifier(o.anchor ?? null);
  // The head is read first: events committed while verifying lie past it and are not judged.
  const head = await store.chainHead();
  let after = 0;
  for (;;) {
    const rows = await store.chain({ afterSeq: after, limit: o.pageSize ?? 5000 });
    const upTo = rows.filter((r) => head === null || r.seq <= head.seq);
    for (const row of upTo) if (!verifier.add(row)) return verifier.finish(head);
    if (upTo.length < rows.length || rows.length === 0) break;
    after = rows.at(-1)!.seq;
  }
  return verifier.finish(head);
}
