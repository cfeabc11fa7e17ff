import type { ServiceEvent } from '../events.ts';
import type { ReleaseState } from '../release/state.ts';
import type { SpecChange } from './plain-words.ts';

export const DOCUMENT_KINDS = ['plan', 'schedule', 'rollback', 'retro', 'runbook', 'comms'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/** The log position a document was generated from: verify it with `sluice audit verify --anchor SEQ:HASH`. */
export interface GeneratedFrom {
  seq: number;
  hash: string | null;
}

/** What a release's documents are written from: the release as projected, its events, and what else is known. */
export interface ReleaseDocInput {
  service: string;
  release: ReleaseState;
  /**
   * The release's events, from its `release.started` to the next release's, and (for a service's
   * environment `NAME--ENV`) the governance events of the plan that started it, from the log of
   * `NAME`: its request, gates, approvals, overrides and decision. In log order.
   */
  events: ServiceEvent[];
  /** The commits the release shipped, with their time and message when known (null: not known). */
  commits: { sha: string; committedAt: number | null; message: string | null }[];
  /** The service's labels (team, owner, escalation …). */
  labels: Record<string, string>;
  /** The notifications of the service's spec (who is told of what). */
  notifications: { driver: string; events?: string[] | undefined; url?: string | undefined }[];
  /** The spec fields that differ between the release's from and to revisions, with both values. */
  specChanges: SpecChange[];
  generatedFrom: GeneratedFrom;
  generatedAt: number;
}

/** One line of a document's timeline: an event of the log. */
export interface TimelineEntry {
  seq: number;
  at: string;
  /** Milliseconds since the release started. */
  offsetMs: number;
  type: string;
  actor: string;
  text: string;
}

/** A generated document: its sections as data and the same as Markdown. Never stored; generated again on demand. */
export interface GeneratedDocument {
  kind: DocumentKind;
  title: string;
  service: string;
  release: number | null;
  generatedFrom: GeneratedFrom;
  generatedAt: string;
  sections: { heading: string; body: unknown }[];
  markdown: string;
}
