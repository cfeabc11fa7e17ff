import { readFileSync } from 'node:fs';
import type { DoraAnswer, ImportSummary } from '../../analytics/analytics.ts';
import { GitError, gitImportLines, readGitVersions } from '../../analytics/git-history.ts';
import { ApiError, type Client, Unreachable } from '../client.ts';
import { type CommandDef, EXIT, UsageError } from '../command.ts';

/** A service name as import lines take it (core/analytics/import-lines.ts). */
const SERVICE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A part sent in one request stays well under the server's 4 MiB body limit. */
const PART_BYTES = 2 * 1024 * 1024;
/** A longer line cannot be sent in one request (the server's body limit, less the request's own JSON): refused here, with its number. */
const MAX_LINE_BYTES = 4 * 1024 * 1024 - 64 * 1024;

function dateFlag(name: string, text: string | undefined, fallback: number): string {
  if (text === undefined) return new Date(fallback).toISOString();
  const ms = /^\d{4}-\d{2}-\d{2}(T.*)?$/.test(text) ? Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text) : NaN;
  if (Number.isNaN(ms))
    throw new UsageError(`--${name} "${text}" is not a date (2026-06-01) or an ISO time (2026-06-01T00:00:00Z)`);
  return text;
}

/** Where an import stopped: the first line not sent, and why. */
interface Stopped {
  line: number;
  error: Error;
}

/**
 * Post JSON lines in parts of whole lines (at most PART_BYTES each, a longer line alone), each saying
 * where it starts so errors keep the file's line numbers. A part the server refuses as too large is
 * reported line by line and the rest is still sent; any other failure stops the import where it is,
 * and what was imported before is still counted (`stopped`).
 */
async function importLines(
  c: Client,
  lines: readonly string[],
  source: 'file' | 'git',
): Promise<{ summary: ImportSummary; stopped: Stopped | null }> {
  const total: ImportSummary = {
    deployments: zero(),
    commits: zero(),
    incidents: zero(),
    versions: zero(),
    rejected: 0,
    errors: [],
  };
  for (let i = 0; i < lines.length;) {
    const size = Buffer.byteLength(lines[i]!);
    if (size > MAX_LINE_BYTES) {
      total.rejected++;
      total.errors.push({
        line: i + 1,
        message: `not imported: the line is ${(size / 1048576).toFixed(1)} MiB, more than the server takes in one request (at most ${(MAX_LINE_BYTES / 1048576).toFixed(2)} MiB)`,
      });
      i++;
      continue;
    }
    let bytes = 0;
    let j = i;
    while (
      j < lines.length &&
      (j === i || (bytes + Buffer.byteLength(lines[j]!) < PART_BYTES && Buffer.byteLength(lines[j]!) <= MAX_LINE_BYTES))
    )
      bytes += Buffer.byteLength(lines[j++]!) + 1;
    let part: ImportSummary;
    try {
      part = await c.post<ImportSummary>('/api/analytics/import', {
        text: lines.slice(i, j).join('\n'),
        firstLine: i + 1,
        source,
      });
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 413))
        return { summary: total, stopped: { line: i + 1, error: err as Error } };
      for (let k = i; k < j; k++) {
        if (lines[k]!.trim() === '') continue;
        total.rejected++;
        total.errors.push({
          line: k + 1,
          message: `not imported: the line is ${(Buffer.byteLength(lines[k]!) / 1048576).toFixed(1)} MiB, more than the server takes in one request (${err.message})`,
        });
      }
      i = j;
      continue;
    }
    for (const k of ['deployments', 'commits', 'incidents', 'versions'] as const) {
      for (const n of ['added', 'unchanged', 'updated'] as const) total[k][n] += part[k][n];
    }
    total.rejected += part.rejected;
    total.errors.push(...part.errors);
    i = j;
  }
  return { summary: total, stopped: null };
}

/** The summary of an import, and where it stopped if it did: nothing half-imported without a count. */
function importResult(
  r: { summary: ImportSummary; stopped: Stopped | null },
  label: string,
  total: number,
  o: { out: (s: string) => void; json: boolean },
): (typeof EXIT)[keyof typeof EXIT] {
  const s = r.summary;
  if (r.stopped !== null && r.stopped.line === 1) throw r.stopped.error; // nothing sent: the error alone says it
  const stop =
    r.stopped === null
      ? null
      : `stopped at line ${r.stopped.line} of ${total}: ${r.stopped.error.message}; lines ${r.stopped.line}–${total} were not imported (the counts above are of the lines before). Run the import again: lines already imported are unchanged.`;
  if (o.json)
    o.out(
      JSON.stringify(
        { ...s, ...(stop !== null && { stopped: { line: r.stopped!.line, error: r.stopped!.error.message } }) },
        null,
        2,
      ),
    );
  else o.out(stop === null ? summaryText(s, label) : `${summaryText(s, label)}\n${stop}`);
  if (r.stopped?.error instanceof Unreachable) return EXIT.unreachable;
  return s.rejected > 0 || r.stopped !== null ? EXIT.failed : EXIT.ok;
}

const zero = () => ({ added: 0, unchanged: 0, updated: 0 });

function summaryText(s: ImportSummary, file: string): string {
  const kinds = (['deployments', 'commits', 'incidents', 'versions'] as const).map(
    (k) =>
      `${k}: ${s[k].added} added, ${s[k].unchanged} unchanged${s[k].updated > 0 ? `, ${s[k].updated} updated` : ''}`,
  );
  const errors = s.errors.map((e) => `${file}:${e.line}: ${e.message}`);
  const more = s.rejected > s.errors.length ? [`… and ${s.rejected - s.errors.length} more bad lines`] : [];
  return [
    ...kinds,
    `${s.rejected} bad line(s)${s.rejected > 0 ? ' (not imported; the others were)' : ''}`,
    ...errors,
    ...more,
  ].join('\n');
}

const hours = (s: number | null) =>
  s === null
    ? 'n/a'
    : s < 3600
      ? `${(s / 60).toFixed(1)} min`
      : s < 86_400 * 2
        ? `${(s / 3600).toFixed(1)} h`
        : `${(s / 86_400).toFixed(1)} d`;
const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)}%`);

export function doraText(k: DoraAnswer): string {
  const f = k.filter;
  const share = (name: string, s: DoraAnswer['progressive']) =>
    `${name}: ${s.available ? `${pct(s.share)} (${s.counts.yes}/${s.counts.known})` : 'not available'}`;
  return [
    `${f.service ?? (f.team !== undefined ? `team ${f.team}` : 'all services')} in ${f.environment}, ${k.window.since} → ${k.window.until} (tiers: ${k.tiers.version})`,
    `deployments           ${k.deployments.count} (${k.deployments.succeeded} succeeded, ${k.deployments.rolledBack} rolled back)`,
    `deployment frequency  ${k.deploymentFrequency.perDay.toFixed(2)}/day, median ${k.deploymentFrequency.medianDeployDaysPerWeek ?? 'n/a'} deploy days/week  [${k.deploymentFrequency.tier ?? '-'}]`,
    `lead time             median ${hours(k.leadTime.medianS)}, p90 ${hours(k.leadTime.p90S)} over ${k.leadTime.counts.commits} commits  [${k.leadTime.tier ?? '-'}]`,
    `change failure rate   ${pct(k.changeFailureRate.value)} (${k.changeFailureRate.counts.failed}/${k.changeFailureRate.counts.deployments}: ${k.changeFailureRate.counts.rolledBack} rolled back, ${k.changeFailureRate.counts.followedByIncident} followed by an incident)  [${k.changeFailureRate.tier ?? '-'}]`,
    `time to restore       median ${hours(k.timeToRestore.medianS)}, p90 ${hours(k.timeToRestore.p90S)} (${k.timeToRestore.counts.rollbacks} rollbacks, ${k.timeToRestore.counts.incidents} incidents, ${k.timeToRestore.counts.unresolvedIncidents} open)  [${k.timeToRestore.tier ?? '-'}]`,
    `${share('progressive', k.progressive)} · ${share('rehearsed', k.rehearsed)} · ${share('behind flags', k.behindFlags)}`,
    `rollback time         ${k.rollbackTime.count === 0 ? 'no rollbacks by Sluice' : `median ${k.rollbackTime.medianS} s, p90 ${k.rollbackTime.p90S} s, max ${k.rollbackTime.maxS} s over ${k.rollbackTime.count}`}`,
  ].join('\n');
}

export const analyticsCommand: CommandDef = {
  name: 'analytics',
  summary:
    'DORA four keys: dora --since --until [--service S] [--env E] · import -f FILE.jsonl · git --repo PATH --service NAME',
  usage:
    'sluice analytics dora [--since DATE] [--until DATE] [--service S] [--team T] [--env production] [--bucket day|week|month] | sluice analytics import -f FILE | sluice analytics git --repo PATH --service NAME',
  options: {
    since: { type: 'string' },
    until: { type: 'string' },
    service: { type: 'string' },
    team: { type: 'string' },
    env: { type: 'string' },
    bucket: { type: 'string' },
    file: { type: 'string', short: 'f' },
    repo: { type: 'string' },
  },
  args: ['action'],
  async run({ positionals, values, client, out, json }) {
    const [action] = positionals;
    const v = values as Record<string, string | undefined>;
    if (action === 'dora') {
      const until = dateFlag('until', v.until, Date.now());
      const since = dateFlag(
        'since',
        v.since,
        Date.parse(until.length === 10 ? `${until}T00:00:00Z` : until) - 30 * 86_400_000,
      );
      if (
        Date.parse(since.length === 10 ? `${since}T00:00:00Z` : since) >=
        Date.parse(until.length === 10 ? `${until}T00:00:00Z` : until)
      ) {
        throw new UsageError(`--since ${since} is not before --until ${until}`);
      }
      if (v.bucket !== undefined && !['day', 'week', 'month'].includes(v.bucket))
        throw new UsageError(`--bucket "${v.bucket}" is not a bucket; valid: day, week, month`);
      const q = new URLSearchParams({
        since,
        until,
        ...(v.service && { service: v.service }),
        ...(v.team && { team: v.team }),
        ...(v.env && { env: v.env }),
        ...(v.bucket && { bucket: v.bucket }),
      });
      const k = await client().get<DoraAnswer>(`/api/analytics/dora?${q.toString()}`);
      out(json ? JSON.stringify(k, null, 2) : doraText(k));
      return EXIT.ok;
    }
    if (action === 'import') {
      if (v.file === undefined) throw new UsageError('give the JSON lines file with -f FILE (- for standard input)');
      let text: string;
      try {
        text = readFileSync(v.file === '-' ? 0 : v.file, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read ${v.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      const lines = text.split('\n');
      if (lines.at(-1) === '') lines.pop();
      return importResult(await importLines(client(), lines, 'file'), v.file, lines.length, { out, json });
    }
    if (action === 'git') {
      if (v.repo === undefined || v.service === undefined) throw new UsageError('give --repo PATH and --service NAME');
      if (!SERVICE_NAME.test(v.service))
        throw new UsageError(
          `--service "${v.service}" is not a service name: lower-case letters, digits and dashes (a DNS label), e.g. checkout`,
        );
      let versions: Awaited<ReturnType<typeof readGitVersions>>;
      try {
        versions = await readGitVersions(v.repo);
      } catch (err) {
        if (err instanceof GitError) throw new UsageError(err.message);
        throw err;
      }
      if (versions.length === 0) {
        out(
          `${v.repo} has no tags: nothing imported (a version maps to the tag v<version> or <version>; tag releases, or name each release's commit with sluice apply --commit SHA)`,
        );
        return EXIT.failed;
      }
      const lines = gitImportLines(v.service, versions);
      return importResult(await importLines(client(), lines, 'git'), `${v.repo} (git)`, lines.length, { out, json });
    }
    throw new UsageError(`unknown action "${action}"; valid: dora, import, git`);
  },
};
