/**
 * The weekly stale-flag digest (docs/flags.md): for each owner, the live flags past their type's
 * expected lifetime, oldest overdue first, with what to do about each. Pure; `now` is passed in.
 */
import type { FlagRecord } from './flag-set.ts';
import { staleness } from './lifecycle.ts';

export interface StaleFlag {
  name: string;
  type: string;
  ageDays: number;
  lifetimeDays: number;
  overdueDays: number;
  /** Environments where it is still enabled. */
  enabledIn: string[];
}

export interface StaleDigest {
  owner: string;
  flags: StaleFlag[];
  title: string;
  markdown: string;
}

/** The owner a flag without one is listed under. */
export const NO_OWNER = '(no owner)';

export function staleDigests(records: readonly FlagRecord[], now: number): StaleDigest[] {
  const byOwner = new Map<string, StaleFlag[]>();
  for (const r of records) {
    if (r.archived) continue;
    const s = staleness(r.createdAt, r.flag.lifetimeDays, now);
    if (!s.stale || s.lifetimeDays === null) continue;
    const owner = r.flag.owner ?? NO_OWNER;
    const list = byOwner.get(owner) ?? [];
    list.push({
      name: r.flag.name,
      type: r.flag.type,
      ageDays: s.ageDays,
      lifetimeDays: s.lifetimeDays,
      overdueDays: s.overdueDays,
      enabledIn: Object.entries(r.flag.environments)
        .filter(([, e]) => e.enabled)
        .map(([env]) => env)
        .sort(),
    });
    byOwner.set(owner, list);
  }
  return [...byOwner.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([owner, flags]) => {
      flags.sort((a, b) => b.overdueDays - a.overdueDays || a.name.localeCompare(b.name));
      const title = `${flags.length} potentially stale flag${flags.length === 1 ? '' : 's'} owned by ${owner}`;
      const lines = flags.map(
        (f) =>
          `| ${f.name} | ${f.type} | ${f.ageDays} days | ${f.overdueDays} days past ${f.lifetimeDays} | ${f.enabledIn.join(', ') || 'none'} |`,
      );
      const markdown = [
        `# ${title}`,
        '',
        'Past the lifetime their type expects: remove each from the code (`sluice flag scan ./src` shows where it is used),',
        'then `sluice flag archive NAME`; or, if it is meant to stay, give it a longer `lifetime:` in its spec.',
        '',
        '| flag | type | age | overdue | enabled in |',
        '| --- | --- | --- | --- | --- |',
        ...lines,
      ].join('\n');
      return { owner, flags, title, markdown };
    });
}
