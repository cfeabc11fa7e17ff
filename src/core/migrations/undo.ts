/**
 * Whether a person may go back from the stable version to an earlier one, as far as the schema
 * goes: never past a contract that ran (it removed what older versions need), and never to a
 * version the expanded schema is not compatible with (`schema.compatibleWith`).
 */
import { satisfies } from '../graph/index.ts';
import type { MigrationEvent } from './events.ts';

export function schemaUndoRefusal(o: {
  service: string;
  stable: { key: string; version: string };
  target: string;
  /** The service's migration events, oldest first. */
  events: readonly (MigrationEvent & { at: number })[];
  compatibleWith: string | null;
}): string | null {
  const contract = o.events.find(
    (e) =>
      e.type === 'migration.ran' &&
      e.phase === 'contract' &&
      e.direction === 'up' &&
      e.ok &&
      e.revision.key === o.stable.key,
  );
  if (contract !== undefined) {
    return `the contract migration of ${o.service} ${o.stable.version} ran at ${new Date(contract.at).toISOString()}: it removed what versions before it need, so going back to ${o.target} would run it on a schema it cannot use. Nothing was changed; fail forward with a fixed version instead (its expand can add back what is needed)`;
  }
  const expanded = o.events.some(
    (e) =>
      e.type === 'migration.ran' &&
      e.phase === 'expand' &&
      e.direction === 'up' &&
      e.ok &&
      e.revision.key === o.stable.key,
  );
  if (expanded && o.compatibleWith !== null && !satisfies(o.target, o.compatibleWith)) {
    return `${o.service} ${o.stable.version} expanded the schema for versions "${o.compatibleWith}" (schema.compatibleWith), and ${o.target} is not one of them. Nothing was changed; fail forward, or go back to a version in "${o.compatibleWith}"`;
  }
  return null;
}
