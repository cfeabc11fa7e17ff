import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { parseAllDocuments } from 'yaml';
import { principalOf } from '../auth/auth-hook.ts';
import { roleAllows } from '../auth/roles.ts';
import { parsePolicy } from '../core/windows/policy-schema.ts';
import { SluiceError } from '../engine/errors.ts';
import type { RecordServerEvents } from '../engine/server-log.ts';
import { POLICY_FILE, readPolicy } from './calendar-routes.ts';
import { applyBody } from './requests.ts';

/** Whether spec text is a ReleasePolicy document (it is applied on its own, not with Services). */
function isPolicy(text: string): boolean {
  try {
    const docs = parseAllDocuments(text).map((d) => d.toJS() as { kind?: unknown } | null).filter((d) => d !== null);
    return docs.length > 0 && docs.some((d) => d.kind === 'ReleasePolicy');
  } catch {
    return false;
  }
}

/**
 * `sluice apply -f policy.yaml` with `kind: ReleasePolicy`: release windows and freezes for the
 * whole server. Validated in full before it replaces the policy file (written to a temporary file
 * and renamed, so a reader never sees half of it); release gates and the calendar read it on each
 * call. Rollbacks never consult it.
 */
export function registerPolicyRoutes(app: FastifyInstance, dataDir: string, record: RecordServerEvents): void {
  app.addHook('preHandler', async (req, reply) => {
    if (req.method !== 'POST' || req.routeOptions.url !== '/api/apply') return;
    const b = applyBody.safeParse(req.body);
    if (!b.success || !isPolicy(b.data.spec)) return;
    const who = principalOf(req);
    if (who === null || !roleAllows(who.role, 'approver')) {
      throw new SluiceError('FORBIDDEN', 'a release policy (windows, freezes) is applied by an approver or admin');
    }
    let policy;
    try {
      policy = parsePolicy(b.data.spec, b.data.file);
    } catch (err) {
      throw new SluiceError('SPEC_INVALID', (err as Error).message);
    }
    const path = join(dataDir, POLICY_FILE);
    await writeFile(`${path}.tmp`, b.data.spec, { mode: 0o644 });
    await rename(`${path}.tmp`, path);
    await record([{ type: 'policy.applied', name: policy.name, windows: policy.windows.length, freezes: policy.freezes.length }], who.name);
    const message = `release policy ${policy.name}: ${policy.windows.length} window(s), ${policy.freezes.length} freeze(s)`;
    return reply.send({ results: [{ service: `policy/${policy.name}`, action: 'configured', revision: '-', version: '-', message }] });
  });
  app.get('/api/policy', async () => ({ policy: await readPolicy(dataDir) }));
}
