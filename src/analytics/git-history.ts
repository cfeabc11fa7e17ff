import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

/** Raised when the repository cannot be read: not a repository, or git missing or failing. */
export class GitError extends Error {
  override name = 'GitError';
}

/**
 * Run git with argv (no shell) and a minimal environment: no user or system config that could
 * run hooks, pagers or credential helpers, and the C locale so its output is stable.
 */
function git(repo: string, args: string[]): Promise<string> {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
  };
  return new Promise((done, fail) => {
    execFile(
      'git',
      ['-C', repo, '--no-pager', ...args],
      { env, maxBuffer: 256 * 1024 * 1024, timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err === null) done(stdout);
        else if ((err as NodeJS.ErrnoException).code === 'ENOENT')
          fail(new GitError('git is not installed (or not on PATH); install git to read a repository'));
        else fail(new GitError(stderr.trim().split('\n')[0] || err.message));
      },
    );
  });
}

export interface GitVersion {
  tag: string;
  version: string;
  commits: { sha: string; committedAt: string; message: string }[];
}

/** A tag's version label: `v2.0.0` → `2.0.0` (Sluice's versions are written without the v); other tags as they are. */
export const versionOfTag = (tag: string): string => (/^v\d/.test(tag) ? tag.slice(1) : tag);

/**
 * Each tag of the repository, oldest first, with the commits it added since the tag before it
 * (all its history for the first). Those are the commits a deployment of that version shipped.
 */
export async function readGitVersions(repoPath: string): Promise<GitVersion[]> {
  const repo = resolve(repoPath);
  try {
    await git(repo, ['rev-parse', '--git-dir']);
  } catch (err) {
    throw new GitError(`--repo ${repoPath} is not a git repository (${(err as Error).message})`);
  }
  const refs = await git(repo, ['for-each-ref', '--sort=creatordate', '--format=%(refname:short)', 'refs/tags']);
  const tags = refs.split('\n').filter((t) => t !== '');
  const out: GitVersion[] = [];
  let previous: string | null = null;
  for (const tag of tags) {
    const range = previous === null ? [`refs/tags/${tag}`] : [`refs/tags/${previous}..refs/tags/${tag}`];
    const log = await git(repo, ['log', '--format=%H%x00%cI%x00%s', ...range, '--']);
    const commits = log
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const [sha, committedAt, message] = l.split('\0') as [string, string, string];
        return { sha, committedAt, message };
      });
    out.push({ tag, version: versionOfTag(tag), commits });
    previous = tag;
  }
  return out;
}

/** The versions as import lines (docs/analytics.md): one `commit` line per commit, one `version` line per tag with commits. */
export function gitImportLines(service: string, versions: readonly GitVersion[]): string[] {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const v of versions) {
    for (const c of v.commits) {
      if (seen.has(c.sha)) continue;
      seen.add(c.sha);
      lines.push(
        JSON.stringify({
          type: 'commit',
          sha: c.sha,
          service,
          committedAt: c.committedAt,
          message: c.message.slice(0, 2000),
        }),
      );
    }
    if (v.commits.length > 0)
      lines.push(
        JSON.stringify({ type: 'version', service, version: v.version, commits: v.commits.map((c) => c.sha) }),
      );
  }
  return lines;
}
