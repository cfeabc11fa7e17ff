/** One problem in a spec file, positioned for editors and terminals. */
export interface SpecIssue {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Dotted field path such as `spec.rollbackContract.rules[0].failIf`; '' for the whole document or file. */
  path: string;
  message: string;
}

/** A spec file that cannot be used; `issues` holds every problem found, not just the first. */
export class SpecError extends Error {
  readonly code = 'SPEC_INVALID';
  readonly issues: SpecIssue[];

  constructor(issues: SpecIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'SpecError';
    this.issues = issues;
  }
}

/** `file:line:col: spec.path: message` — the form editors and terminals make clickable. */
export function formatIssue(issue: SpecIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/** ['spec', 'steps', 2, 'setWeight'] → `spec.steps[2].setWeight`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text ? `.${String(segment)}` : String(segment);
  }
  return text;
}
