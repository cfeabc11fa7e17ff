/**
 * What an import could not carry over, carried over changed, or added: one note per place in
 * the Argo files, with the file and line it came from. Nothing is dropped without a note.
 */

/** `dropped`: not in the Sluice spec; `changed`: carried over with other behaviour; `added`: Sluice needed it, Argo did not say it. */
export type NoteKind = 'dropped' | 'changed' | 'added';

export interface ImportNote {
  kind: NoteKind;
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Dotted path in the Argo document, e.g. `spec.strategy.canary.steps[2].analysis`. */
  path: string;
  message: string;
}

/** The flags of `sluice import argo`. */
export interface ArgoImportOptions {
  /** argv that runs one instance of a version (`${version}` is filled per revision). */
  targetCommand: string[];
  /** Where Sluice's built-in router serves the service. */
  listen: string;
  /** The version to start; default: the tag of the Rollout's image. */
  version?: string;
}

const LABEL: Record<NoteKind, string> = { dropped: 'not carried over', changed: 'changed', added: 'added' };

/** `file:line:col: path: not carried over: message` — the form editors and terminals make clickable. */
export function formatNote(note: ImportNote): string {
  const where = `${note.file}:${note.line}:${note.column}`;
  return `${where}: ${note.path ? `${note.path}: ` : ''}${LABEL[note.kind]}: ${note.message}`;
}
