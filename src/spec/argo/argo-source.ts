/**
 * One Argo document as the importer reads it: its plain value, where each field is written, and
 * which fields the mapping used or reported. Whatever is left unmarked at the end is an unknown
 * field and is reported too, so nothing in the Argo files is dropped silently.
 */
import { formatPath } from '../spec-error.ts';
import type { ImportNote, NoteKind } from './import-report.ts';

export type Path = readonly (string | number)[];
export type Raw = Record<string, unknown>;

export interface ArgoDocument {
  file: string;
  kind: string;
  name: string;
  value: Raw;
  /** Where the value at `path` is written (the deepest node that exists). */
  at(path: Path): { line: number; column: number };
}

/** The fields of one document that the mapping used or reported, and the notes it made. */
export class SourceMarks {
  private readonly marked = new Set<string>();
  readonly doc: ArgoDocument;
  private readonly notes: ImportNote[];

  constructor(doc: ArgoDocument, notes: ImportNote[]) {
    this.doc = doc;
    this.notes = notes;
  }

  /** The value at `path`, marked as used. */
  use<T = unknown>(path: Path): T | undefined {
    this.marked.add(formatPath(path));
    return valueAt(this.doc.value, path) as T | undefined;
  }

  /** The value at `path`, not marked (a look before deciding). */
  peek<T = unknown>(path: Path): T | undefined {
    return valueAt(this.doc.value, path) as T | undefined;
  }

  /**
   * A note at `path`. A `dropped` note covers the field (nothing under it is reported again);
   * `changed` and `added` notes only point at it, and the mapping marks what it used.
   */
  note(kind: NoteKind, path: Path, message: string): void {
    if (kind === 'dropped') this.marked.add(formatPath(path));
    this.notes.push({ kind, file: this.doc.file, ...this.doc.at(path), path: formatPath(path), message });
  }

  /** Reports each field under `path` that nothing marked, as one note per outermost unmarked field. */
  reportUnmarked(path: Path, why: (path: Path) => string): void {
    const walk = (node: unknown, at: Path): void => {
      const key = formatPath(at);
      if (this.marked.has(key)) return;
      const below = [...this.marked].some((m) => m.startsWith(`${key}.`) || m.startsWith(`${key}[`) || key === '');
      if (!below) {
        this.note('dropped', at, why(at));
        return;
      }
      if (Array.isArray(node)) node.forEach((item, i) => walk(item, [...at, i]));
      else if (isRaw(node)) for (const [k, v] of Object.entries(node)) walk(v, [...at, k]);
    };
    walk(valueAt(this.doc.value, path), path);
  }
}

export function isRaw(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function valueAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const segment of path) {
    if (Array.isArray(node) && typeof segment === 'number') node = node[segment];
    else if (isRaw(node) && typeof segment === 'string') node = node[segment];
    else return undefined;
  }
  return node;
}
