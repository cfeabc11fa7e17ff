/**
 * Reads the files given to `sluice import argo` into Argo documents, through the spec layer's one
 * YAML composition (parse.ts). A document of a kind the importer does not read is an error naming
 * the kind and the kinds it reads; the Kubernetes objects that travel with a Rollout in the same
 * file (its Services, Secrets, Ingress …) are skipped with a note.
 */
import { composeDocuments } from '../parse.ts';
import { SpecError, type SpecIssue } from '../spec-error.ts';
import { positionOf } from '../yaml-position.ts';
import type { ImportNote } from './import-report.ts';
import { isRaw, type ArgoDocument } from './argo-source.ts';

/** The Argo kinds the importer maps. */
export const ARGO_KINDS = ['Rollout', 'AnalysisTemplate', 'ClusterAnalysisTemplate'] as const;
const ARGO_API = /^argoproj\.io\//;

export interface ArgoFiles {
  documents: ArgoDocument[];
  /** Kubernetes objects skipped, one note each. */
  notes: ImportNote[];
}

/** Kubernetes' own API groups: the core group (`v1`) and the `*.k8s.io` ones. */
function isKubernetesObject(apiVersion: unknown): boolean {
  return (
    apiVersion === 'v1' || (typeof apiVersion === 'string' && /^[a-z0-9.-]+\.k8s\.io\/[a-z0-9]+$/.test(apiVersion))
  );
}

/** Each `{ text, file }` read in turn; throws a SpecError listing every problem in every file. */
export function readArgoFiles(files: { text: string; file: string }[]): ArgoFiles {
  const documents: ArgoDocument[] = [];
  const notes: ImportNote[] = [];
  const issues: SpecIssue[] = [];
  for (const { text, file } of files) {
    const composed = composeDocuments(text, file);
    issues.push(...composed.issues);
    for (const { doc, value } of composed.documents) {
      const at = (path: readonly (string | number)[]) => positionOf(doc, composed.lineCounter, path, true);
      const where = (path: (string | number)[]) => ({ file, ...at(path) });
      if (!isRaw(value)) {
        issues.push({
          ...where([]),
          path: '',
          message: `expected an Argo Rollouts document (a map with apiVersion and kind), got ${Array.isArray(value) ? 'a list' : typeof value}`,
        });
        continue;
      }
      const { kind, apiVersion } = value;
      const name = isRaw(value.metadata) && typeof value.metadata.name === 'string' ? value.metadata.name : '';
      if (typeof kind === 'string' && isKubernetesObject(apiVersion)) {
        notes.push({
          kind: 'dropped',
          ...where(['kind']),
          path: 'kind',
          message: `${kind} ${name} (a Kubernetes object): skipped; Sluice's router and target take the place of Kubernetes Services and Pods, and secrets are references (docs/security.md)`,
        });
        continue;
      }
      if (
        typeof kind !== 'string' ||
        !(ARGO_KINDS as readonly string[]).includes(kind) ||
        !ARGO_API.test(String(apiVersion))
      ) {
        const given =
          typeof kind === 'string'
            ? `kind ${kind}${typeof apiVersion === 'string' ? ` (${apiVersion})` : ''}`
            : 'a document without a kind';
        issues.push({
          ...where(typeof kind === 'string' ? ['kind'] : []),
          path: 'kind',
          message: `${given} is not read by sluice import argo; it reads ${ARGO_KINDS.join(', ')} (apiVersion argoproj.io/v1alpha1)`,
        });
        continue;
      }
      if (name === '') {
        issues.push({ ...where(['metadata']), path: 'metadata.name', message: `a ${kind} needs metadata.name` });
        continue;
      }
      documents.push({ file, kind, name, value, at });
    }
    if (composed.count === 0)
      issues.push({
        file,
        line: 1,
        column: 1,
        path: '',
        message: `no document found; expected ${ARGO_KINDS.join(', ')}`,
      });
  }
  if (issues.length > 0) throw new SpecError(issues);
  return { documents, notes };
}
