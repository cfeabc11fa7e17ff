/**
 * The share of releases that ship behind flags: a release counts when the revision it moved to
 * declares `spec.flags` (docs/flags.md). Read from the store's releases and revisions.
 */
import type { Store } from '../store/types.ts';

export interface FlagAdoption {
  releases: number;
  behindFlags: number;
  /** behindFlags / releases (null with no release). */
  share: number | null;
  services: { service: string; releases: number; behindFlags: number; flags: string[] }[];
}

export async function flagAdoption(store: Store): Promise<FlagAdoption> {
  const services: FlagAdoption['services'] = [];
  for (const s of await store.services()) {
    const releases = await store.releases(s.name, 1000);
    const flagsOf = new Map<string, string[]>();
    for (const r of await store.revisions(s.name))
      flagsOf.set(r.key, (r.spec as { spec?: { flags?: string[] } }).spec?.flags ?? []);
    const behind = releases.filter((r) => (flagsOf.get(r.to.key) ?? []).length > 0);
    services.push({
      service: s.name,
      releases: releases.length,
      behindFlags: behind.length,
      flags: [...new Set(behind.flatMap((r) => flagsOf.get(r.to.key) ?? []))].sort(),
    });
  }
  const releases = services.reduce((n, s) => n + s.releases, 0);
  const behindFlags = services.reduce((n, s) => n + s.behindFlags, 0);
  return { releases, behindFlags, share: releases === 0 ? null : behindFlags / releases, services };
}
