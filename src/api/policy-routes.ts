import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../auth/auth-hook.ts';
import { roleAllows } from '../auth/roles.ts';
import { SluiceError } from '../engine/errors.ts';
import type { RecordServerEvents } from '../engine/server-log.ts';
import { POLICY_FILE, readPolicy } from './calendar-routes.ts';
import { applyBody } from './requests.ts';
import { specTextOf } from './spec-body.ts';

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
    if (!b.success) return;
    const read = (await specTextOf(req, b.data)).policy;
    if (read === undefined) return;
    const who = principalOf(req);
    if (who === null || !roleAllows(who.role, 'approver')) {
      throw new SluiceError('FORBIDDEN', 'a release policy (windows, freezes) is applied by an approver or admin');
    }
    if (!read.ok) throw new SluiceError('SPEC_INVALID', read.message);
    const { policy } = read;
    const path = join(dataDir, POLICY_FILE);
    await writeFile(`${path}.tmp`, b.data.spec, { mode: 0o644 });
    await rename(`${path}.tmp`, path);
    await record([{ type: 'policy.applied', name: policy.name, windows: policy.windows.length, freezes: policy.freezes.length }], who.name);
    const message = `release policy ${policy.name}: ${policy.windows.length} window(s), ${policy.freezes.length} freeze(s)`;
    return reply.send({ results: [{ service: `policy/${policy.name}`, action: 'configured', revision: '-', version: '-', message }] });
  });
  app.get('/api/policy', async () => ({ policy: await readPolicy(dataDir) }));
}
