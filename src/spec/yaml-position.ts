import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export interface Position {
  line: number;
  column: number;
}

/**
 * Where the value at `path` is written. A path that goes past the YAML (a missing key) stops at
 * the deepest node that exists, i.e. the map the key is missing from. With `atKey`, a path ending
 * in a map key points at the key itself (for unknown keys) rather than its value.
 */
export function positionOf(
  doc: Document.Parsed,
  lineCounter: LineCounter,
  path: readonly PropertyKey[],
  atKey = false,
): Position {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const [i, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) break;
      const last = i === path.length - 1;
      next = pair.value;
      offset = (last && atKey ? rangeStart(pair.key) : undefined) ?? rangeStart(next) ?? rangeStart(pair.key) ?? offset;
    } else if (isSeq(node) && typeof segment === 'number') {
      next = node.items[segment];
      offset = rangeStart(next) ?? offset;
    } else break;
    if (next === undefined || next === null) break;
    node = next;
  }
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

/** Offset where a node starts; a key with an empty value has a zero-length node, still placed. */
function rangeStart(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}
