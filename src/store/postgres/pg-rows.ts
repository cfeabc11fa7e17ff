import type { EventBody, ServiceEvent } from '../../core/events.ts';
import type { ChainRow, StoredRevision, StoredService } from '../types.ts';

/** PostgreSQL returns BIGINT as text; these read rows back into the store's types. */
type Row = Record<string, unknown>;

const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function toEvent(row: Row): ServiceEvent {
  const body = JSON.parse(String(row.body)) as EventBody;
  return { ...body, service: String(row.service), at: Number(row.at), actor: String(row.actor), seq: Number(row.seq) };
}

export function toChainRow(row: Row): ChainRow {
  return {
    seq: Number(row.seq),
    service: String(row.service),
    type: String(row.type),
    at: Number(row.at),
    actor: String(row.actor),
    body: String(row.body),
    prevHash: text(row.prev_hash),
    hash: text(row.hash),
  };
}

export function toRevision(row: Row): StoredRevision {
  return {
    service: String(row.service),
    key: String(row.key),
    number: Number(row.number),
    version: String(row.version),
    templateHash: String(row.template_hash),
    baseDir: String(row.base_dir),
    file: text(row.file),
    createdAt: Number(row.created_at),
    createdBy: String(row.created_by),
    spec: JSON.parse(String(row.spec)),
  };
}

export function toService(row: Row): StoredService {
  return {
    name: String(row.name),
    revisionKey: String(row.revision_key),
    baseDir: String(row.base_dir),
    file: text(row.file),
    updatedAt: Number(row.updated_at),
    spec: JSON.parse(String(row.spec)),
  };
}
