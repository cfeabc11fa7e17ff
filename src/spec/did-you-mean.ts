/** The name a user most likely meant, for "did you mean …?" in spec messages. */

/**
 * The valid name closest to `given`: the same up to case and separators (`rollbackcontract`,
 * `min_samples`), else one or two letters off (`setWeigth`, `proces`); undefined when none is near.
 */
export function closestName(given: string, valid: readonly string[]): string | undefined {
  const loose = (text: string) => text.toLowerCase().replace(/[-_]/g, '');
  const same = valid.find((name) => loose(name) === loose(given));
  if (same !== undefined) return same;
  const allowed = given.length <= 4 ? 1 : 2;
  let best: { name: string; distance: number } | undefined;
  for (const name of valid) {
    const distance = editDistance(loose(given), loose(name));
    if (distance <= allowed && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** ` (did you mean "setWeight"?)`, or '' when no valid name is near. */
export function didYouMean(given: string, valid: readonly string[]): string {
  const match = closestName(given, valid);
  return match === undefined ? '' : ` (did you mean "${match}"?)`;
}

/** Insertions, deletions, substitutions and swaps of neighbours (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
