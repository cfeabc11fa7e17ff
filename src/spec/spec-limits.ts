/**
 * Limits on a submitted spec text, checked on yaml's concrete syntax tree before the text is
 * composed into documents. Composing a mapping costs time in the square of its keys (2.4 s at
 * 16,000 keys), so a text past these limits is refused before that work starts. Pure.
 */
import { CST, Parser } from 'yaml';

export interface SpecLimits {
  /** Bytes of YAML text (UTF-8). */
  textBytes: number;
  /** Documents in one text (`---` separated). */
  documents: number;
  /** Keys in any one mapping. */
  keysPerMapping: number;
  /** Keys in all mappings of the text together. */
  keys: number;
  /** Collections nested in one another. */
  depth: number;
  /** Alias references (`*name`). */
  aliases: number;
}

/**
 * Well above any real spec (a Service with five environments, notifiers and thirty rules is under
 * 20 KiB with a few hundred keys, nesting under 12, no aliases), and low enough that the worst
 * text within them parses in a few hundred milliseconds, off the control loop.
 */
export const SPEC_LIMITS: SpecLimits = {
  textBytes: 256 * 1024,
  documents: 100,
  keysPerMapping: 500,
  keys: 10_000,
  depth: 64,
  aliases: 100,
};

/** What each limit counts, for messages: "… has 16000 keys; the limit is 1000 keys per mapping". */
const UNITS: Record<keyof SpecLimits, string> = {
  textBytes: 'bytes of text',
  documents: 'documents',
  keysPerMapping: 'keys per mapping',
  keys: 'keys in all',
  depth: 'levels of nesting',
  aliases: 'aliases',
};

/** A spec text past one of the limits (or past the time allowed to parse it). */
export class SpecLimitError extends Error {
  readonly code = 'SPEC_TOO_LARGE';
  readonly file: string;
  readonly limit: keyof SpecLimits | 'parseMs';
  readonly given: number;
  readonly max: number;

  constructor(
    file: string,
    limit: keyof SpecLimits | 'parseMs',
    given: number,
    max: number,
    where = '',
    message?: string,
  ) {
    const unit = limit === 'parseMs' ? 'ms to parse' : UNITS[limit];
    const what =
      limit === 'parseMs'
        ? `parsing took longer than ${max} ms and was stopped`
        : `${where ? `${where} ` : ''}has ${given} ${limit === 'keysPerMapping' ? 'keys' : unit}; the limit is ${max} ${unit}`;
    super(message ?? `${file}: ${what} (a spec holds far fewer; split the text or remove what repeats)`);
    this.name = 'SpecLimitError';
    this.file = file;
    this.limit = limit;
    this.given = given;
    this.max = max;
  }
}

/** Throws a SpecLimitError naming the first limit `text` is past; returns when it is within all. */
export function checkSpecLimits(text: string, file: string, limits: SpecLimits = SPEC_LIMITS): void {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.textBytes) throw new SpecLimitError(file, 'textBytes', bytes, limits.textBytes, 'the text');
  let line = 1;
  let lineOffset = 0;
  /** 1-based line of `offset`; offsets are visited in increasing order within each document. */
  const lineOf = (offset: number): number => {
    if (offset < lineOffset) {
      line = 1;
      lineOffset = 0;
    }
    for (let i = text.indexOf('\n', lineOffset); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
      line++;
      lineOffset = i + 1;
    }
    return line;
  };
  let documents = 0;
  let keys = 0;
  let aliases = 0;
  // Walked with an explicit stack: a deeply nested text must not overflow this function's stack.
  const stack: { token: CST.Token | undefined; depth: number }[] = [];
  for (const token of new Parser().parse(text)) {
    if (token.type !== 'document') continue;
    if (++documents > limits.documents)
      throw new SpecLimitError(file, 'documents', documents, limits.documents, 'the text');
    stack.push({ token: token.value, depth: 0 });
    while (stack.length > 0) {
      const { token: t, depth } = stack.pop()!;
      if (t === undefined) continue;
      if (t.type === 'alias' && ++aliases > limits.aliases)
        throw new SpecLimitError(file, 'aliases', aliases, limits.aliases, `the text (line ${lineOf(t.offset)})`);
      if (t.type !== 'block-map' && t.type !== 'block-seq' && t.type !== 'flow-collection') continue;
      if (depth + 1 > limits.depth)
        throw new SpecLimitError(file, 'depth', depth + 1, limits.depth, `the collection at line ${lineOf(t.offset)}`);
      const isMap = t.type === 'block-map' || (t.type === 'flow-collection' && t.start.source === '{');
      if (isMap) {
        const n = t.items.length;
        if (n > limits.keysPerMapping)
          throw new SpecLimitError(
            file,
            'keysPerMapping',
            n,
            limits.keysPerMapping,
            `the mapping at line ${lineOf(t.offset)}`,
          );
        keys += n;
        if (keys > limits.keys) throw new SpecLimitError(file, 'keys', keys, limits.keys, 'the text');
      }
      for (const item of t.items) {
        if ('key' in item && item.key) stack.push({ token: item.key, depth: depth + 1 });
        if (item.value) stack.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
}
