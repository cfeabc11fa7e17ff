import { z } from 'zod';
import type { Commit, Deployment, Incident } from './types.ts';

/** The commits a version of a service shipped (from `sluice analytics git` or `sluice apply --commit`). */
export interface VersionCommits {
  service: string;
  version: string;
  commits: string[];
}

/** One import line, read: what it adds. */
export type ImportRecord =
  | { type: 'deployment'; deployment: Deployment }
  | { type: 'commit'; commit: Commit }
  | { type: 'incident'; incident: Incident }
  | { type: 'version'; version: VersionCommits };

export interface LineError {
  line: number;
  message: string;
}

const name = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    'a service or environment name: lower-case letters, digits and dashes (a DNS label)',
  );
const time = z
  .string()
  .refine(
    (s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)),
    'an ISO time, e.g. 2026-06-01T10:00:00Z',
  );
const sha = z.string().regex(/^[0-9a-f]{4,64}$/, 'a commit sha: 4 to 64 hex digits');
const id = z.string().min(1).max(200);

const deploymentLine = z.strictObject({
  type: z.literal('deployment'),
  id,
  service: name,
  environment: name.default('production'),
  team: z.string().max(100).optional(),
  version: z.string().min(1).max(200),
  startedAt: time,
  finishedAt: time,
  result: z.enum(['success', 'rolledback']),
  trafficRevertedAt: time.optional(),
  /** When the new version first took production traffic (time to restore starts there; default: startedAt). */
  firstTrafficAt: time.optional(),
  commits: z.array(sha).max(10_000).default([]),
  progressive: z.boolean().optional(),
  rehearsed: z.boolean().optional(),
  behindFlag: z.boolean().optional(),
});
const commitLine = z.strictObject({
  type: z.literal('commit'),
  sha,
  service: name,
  committedAt: time,
  message: z.string().max(2000).optional(),
});
const incidentLine = z.strictObject({
  type: z.literal('incident'),
  id,
  service: name,
  environment: name.default('production'),
  openedAt: time,
  resolvedAt: time.nullable().optional(),
});
const versionLine = z.strictObject({
  type: z.literal('version'),
  service: name,
  version: z.string().min(1).max(200),
  commits: z.array(sha).min(1).max(10_000),
});

const LINES = { deployment: deploymentLine, commit: commitLine, incident: incidentLine, version: versionLine } as const;

/** An import line's JSON as a record, or the first thing wrong with it (field, what was given, what is valid). */
export function readImportLine(value: unknown): ImportRecord | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a line is one JSON object';
  const type = (value as { type?: unknown }).type;
  const schema = typeof type === 'string' && Object.hasOwn(LINES, type) ? LINES[type as keyof typeof LINES] : undefined;
  if (schema === undefined)
    return `type ${JSON.stringify(type)} is not a line type; valid: ${Object.keys(LINES).join(', ')}`;
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || '(line)';
    const given = issue.path.reduce<unknown>(
      (v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k as PropertyKey],
      value,
    );
    return `${field}: ${issue.message}${given === undefined ? '' : ` (given ${JSON.stringify(given)})`}`;
  }
  const l = parsed.data;
  switch (l.type) {
    case 'deployment': {
      const startedAt = Date.parse(l.startedAt);
      const finishedAt = Date.parse(l.finishedAt);
      if (finishedAt < startedAt) return `finishedAt ${l.finishedAt} is before startedAt ${l.startedAt}`;
      if (l.result === 'rolledback' && l.trafficRevertedAt === undefined)
        return 'trafficRevertedAt: a rolled-back deployment needs the time all traffic was back on the previous version';
      if (l.result === 'success' && l.trafficRevertedAt !== undefined)
        return 'trafficRevertedAt: only a rolled-back deployment has one (result is "success")';
      const reverted = l.trafficRevertedAt === undefined ? null : Date.parse(l.trafficRevertedAt);
      if (reverted !== null && reverted < startedAt)
        return `trafficRevertedAt ${l.trafficRevertedAt} is before startedAt ${l.startedAt}`;
      const firstTraffic = l.firstTrafficAt === undefined ? null : Date.parse(l.firstTrafficAt);
      if (firstTraffic !== null && (firstTraffic < startedAt || firstTraffic > (reverted ?? finishedAt)))
        return `firstTrafficAt ${l.firstTrafficAt} is not between startedAt ${l.startedAt} and ${reverted === null ? `finishedAt ${l.finishedAt}` : `trafficRevertedAt ${l.trafficRevertedAt}`}`;
      return {
        type: 'deployment',
        deployment: {
          id: l.id,
          service: l.service,
          environment: l.environment,
          team: l.team ?? null,
          version: l.version,
          startedAt,
          finishedAt,
          result: l.result,
          firstTrafficAt: firstTraffic,
          trafficRevertedAt: reverted,
          revertMs: null,
          commits: [...new Set(l.commits)],
          progressive: l.progressive ?? null,
          rehearsed: l.rehearsed ?? null,
          behindFlag: l.behindFlag ?? null,
          source: 'import',
        },
      };
    }
    case 'commit':
      return {
        type: 'commit',
        commit: {
          sha: l.sha,
          service: l.service,
          committedAt: Date.parse(l.committedAt),
          message: l.message?.split('\n')[0] ?? null,
        },
      };
    case 'incident': {
      const openedAt = Date.parse(l.openedAt);
      const resolvedAt = l.resolvedAt == null ? null : Date.parse(l.resolvedAt);
      if (resolvedAt !== null && resolvedAt < openedAt)
        return `resolvedAt ${l.resolvedAt} is before openedAt ${l.openedAt}`;
      return {
        type: 'incident',
        incident: { id: l.id, service: l.service, environment: l.environment, openedAt, resolvedAt },
      };
    }
    case 'version':
      return { type: 'version', version: { service: l.service, version: l.version, commits: l.commits } };
  }
}

/** JSON lines as records; each bad line is reported with its number (from 1) and the rest are still read. Blank lines are skipped. */
export function readImportText(text: string): { records: ImportRecord[]; errors: LineError[] } {
  const records: ImportRecord[] = [];
  const errors: LineError[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      errors.push({ line: i + 1, message: `not JSON: ${(err as Error).message}` });
      continue;
    }
    const r = readImportLine(value);
    if (typeof r === 'string') errors.push({ line: i + 1, message: r });
    else records.push(r);
  }
  return { records, errors };
}
