/** `sluice import argo`: Argo Rollouts files in, one Sluice Service document (YAML) and the import's notes out. */
import { stringify } from 'yaml';
import { importRollout } from './import-rollout.ts';
import type { ArgoImportOptions, ImportNote } from './import-report.ts';
import { readArgoFiles } from './read-argo.ts';

export { formatNote, type ArgoImportOptions, type ImportNote, type NoteKind } from './import-report.ts';
export { ARGO_KINDS } from './read-argo.ts';

export interface ArgoImportResult {
  service: Record<string, unknown>;
  /** The Service document as YAML, headed by a comment naming its source. */
  yaml: string;
  notes: ImportNote[];
}

/** Throws a SpecError (file:line:col) for files that cannot be imported. */
export function importArgo(files: { text: string; file: string }[], options: ArgoImportOptions): ArgoImportResult {
  const { service, notes } = importRollout(readArgoFiles(files), options);
  // In the order the files were given, then by line.
  const order = new Map(files.map((f, i) => [f.file, i]));
  notes.sort((a, b) => (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0) || a.line - b.line || a.column - b.column);
  const header = `# Imported by sluice import argo from ${files.map((f) => f.file).join(', ')}; ${notes.length} note(s) on what did not carry over as it was (docs/import-argo.md)\n`;
  return { service, yaml: header + stringify(service, { lineWidth: 0 }), notes };
}
