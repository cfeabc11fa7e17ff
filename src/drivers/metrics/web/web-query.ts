/**
 * A web query rule: `PATH_OR_URL | SELECTOR`, e.g.
 * `/api/v1/metrics?service=${service}&version=${version} | $.series[0].points[-1][1]`. Pure.
 */
import { parseSelector, type SelectorStep } from './selector.ts';

export interface WebQuery {
  /** A path (joined to the provider's address) or an absolute http(s) URL. */
  target: string;
  selector: SelectorStep[];
}

/** The first ` | $` splits: a URL may hold "|", a selector always starts with "$". */
const SPLIT = /^(.*?)\s+\|\s+(\$.*)$/s;

/** Throws with a sentence saying what a valid query looks like. */
export function parseWebQuery(query: string): WebQuery {
  const m = SPLIT.exec(query.trim());
  if (!m)
    throw new Error(
      `web query "${query}" must be "PATH_OR_URL | SELECTOR", e.g. "/api/metrics?version=\${version} | $.data[0].value"`,
    );
  const target = m[1] ?? '';
  if (!target.startsWith('/') && !/^https?:\/\//.test(target)) {
    throw new Error(`web query "${query}": "${target}" is neither a path starting with / nor an http(s) URL`);
  }
  return { target, selector: parseSelector(m[2] ?? '') };
}
