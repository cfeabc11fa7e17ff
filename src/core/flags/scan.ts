/**
 * Where flag keys appear in source text: as a quoted string ('key', "key", `key`), the way
 * OpenFeature clients name them. Pure: the CLI walks the tree and hands each file's text here.
 */
export interface KeyUse {
  key: string;
  line: number;
  column: number;
  text: string;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One pattern for every key; null when there are none. */
export function keyPattern(keys: readonly string[]): RegExp | null {
  if (keys.length === 0) return null;
  const sorted = [...keys].sort((a, b) => b.length - a.length).map(escape);
  return new RegExp(`(['"\`])(${sorted.join('|')})\\1`, 'g');
}

export function findKeyUses(text: string, pattern: RegExp): KeyUse[] {
  const uses: KeyUse[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    pattern.lastIndex = 0;
    for (let m = pattern.exec(line); m !== null; m = pattern.exec(line)) {
      uses.push({ key: m[2]!, line: i + 1, column: m.index + 1, text: line.trim().slice(0, 160) });
    }
  }
  return uses;
}
