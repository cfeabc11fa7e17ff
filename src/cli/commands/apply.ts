import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ApplyResult } from '../../views/index.ts';
import { type CommandDef, UsageError } from '../command.ts';

function files(values: Record<string, unknown>): string[] {
  const f = values.file as string[] | undefined;
  if (!f || f.length === 0) throw new UsageError('give a spec file with -f FILE');
  return f;
}

function read(file: string): string {
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function versionLines(results: readonly ApplyResult[], commit: string): string {
  return results
    .map((r) =>
      JSON.stringify({ type: 'version', service: r.service.split('--')[0], version: r.version, commits: [commit] }),
    )
    .join('\n');
}

export const applyCommand: CommandDef = {
  name: 'apply',
  summary: 'apply service specs: the first apply deploys, a changed template starts a release',
  usage: 'sluice apply -f FILE [-f FILE …] [--commit SHA]',
  options: { file: { type: 'string', short: 'f', multiple: true }, commit: { type: 'string' } },
  async run({ values, client, out, json }) {
    const commit = values.commit as string | undefined;
    if (commit !== undefined && !/^[0-9a-f]{4,64}$/.test(commit))
      throw new UsageError(
        `--commit "${commit}" is not a commit sha (4 to 64 hex digits, e.g. from git rev-parse HEAD)`,
      );
    const results: ApplyResult[] = [];
    for (const file of files(values)) {
      const path = file === '-' ? '<stdin>' : resolve(file);
      const body = { spec: read(file), file: path, baseDir: file === '-' ? process.cwd() : dirname(path) };
      results.push(...(await client().post<{ results: ApplyResult[] }>('/api/apply', body)).results);
    }
    const lines = results.flatMap((r) => [
      `${r.service}: ${r.action} — ${r.message}`,
      ...(r.warnings ?? []).map((w) => `warning: ${w}`),
    ]);
    // --commit: the version each service moves to shipped this commit (for lead time, docs/analytics.md).
    if (commit !== undefined)
      await client().post('/api/analytics/import', { text: versionLines(results, commit), source: 'api' });
    out(json ? JSON.stringify(results, null, 2) : lines.join('\n'));
    return 0;
  },
};

export const lintCommand: CommandDef = {
  name: 'lint',
  summary: 'check spec files without a server; every problem with file:line:col',
  usage: 'sluice lint -f FILE [-f FILE …] [--rps N]',
  options: { file: { type: 'string', short: 'f', multiple: true }, rps: { type: 'string' } },
  async run({ values, out, json }) {
    const { evidenceWarningsOf } = await import('../../spec/index.ts');
    const rps = values.rps === undefined ? undefined : Number(values.rps);
    if (rps !== undefined && !(Number.isFinite(rps) && rps > 0)) {
      throw new UsageError(
        `--rps: ${JSON.stringify(values.rps)} is not a rate; write the requests per second the service receives, e.g. --rps 40`,
      );
    }
    const warnings: string[] = [];
    // The server's reader, limits and deadline included: what lints here is what the server takes.
    const { readSpecText } = await import('../../engine/spec-text.ts');
    const found: { file: string; services: string[] }[] = [];
    for (const file of files(values)) {
      const text = await readSpecText(read(file), file);
      if (text.policy !== undefined) {
        if (!text.policy.ok) throw Object.assign(new Error(text.policy.message), { name: 'SpecError' });
        const { policy } = text.policy;
        found.push({
          file,
          services: [
            `release policy ${policy.name}: ${policy.windows.length} window(s), ${policy.freezes.length} freeze(s)`,
          ],
        });
        continue;
      }
      const flagDocs = text.documents.flatMap((d) =>
        d.kind === 'FeatureFlag' ? [`flag ${d.flag.name}`] : d.kind === 'Segment' ? [`segment ${d.segment.name}`] : [],
      );
      found.push({
        file,
        services: [...text.services.map((s) => `${s.metadata.name} ${s.spec.version}`), ...flagDocs],
      });
      warnings.push(...text.services.flatMap((s) => evidenceWarningsOf(s, rps).map((w) => `${file}: ${w}`)));
    }
    const lines = [
      ...found.map((f) => `${f.file}: ok (${f.services.join(', ')})`),
      ...warnings.map((w) => `warning: ${w}`),
    ];
    out(json ? JSON.stringify({ ok: true, files: found, warnings }, null, 2) : lines.join('\n'));
    return 0;
  },
};

export const schemaCommand: CommandDef = {
  name: 'schema',
  summary: 'print the JSON Schema of the spec format (for editors)',
  usage: 'sluice schema',
  async run({ out }) {
    const { jsonSchema } = await import('../../spec/index.ts');
    const { driverSchemas } = await import('../../drivers/registry.ts');
    out(JSON.stringify(jsonSchema(driverSchemas()), null, 2));
    return 0;
  },
};
