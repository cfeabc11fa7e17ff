import type { FastifyInstance } from 'fastify';
import { principalOf } from '../auth/auth-hook.ts';
import { type RecordServerEvents, readServerPolicy, serverPolicySchema, writeServerPolicy } from '../engine/index.ts';
import { readPolicy } from './calendar-routes.ts';

/**
 * The server's release policy (windows, freezes), as applied with `sluice apply -f policy.yaml`
 * (`kind: ReleasePolicy`, by an approver or admin: engine/apply-entry.ts). Release gates and the
 * calendar read it on each call; rollbacks never consult it.
 */
export function registerPolicyRoutes(app: FastifyInstance, dataDir: string, recordServer: RecordServerEvents): void {
  app.get('/api/policy', async () => ({ policy: await readPolicy(dataDir) }));
  // What specs may make the server start and call (docs/security.md). Reading it: any role; setting it: admin (route-access.ts).
  app.get('/api/server-policy', async () => ({ policy: await readServerPolicy(dataDir) }));
  app.put('/api/server-policy', async (req) => {
    const policy = serverPolicySchema.parse(req.body ?? {});
    await writeServerPolicy(dataDir, policy);
    await recordServer(
      [
        {
          type: 'serverPolicy.applied',
          allowExec: policy.allowExec ?? null,
          allowUrlHosts: policy.allowUrlHosts ?? null,
        },
      ],
      principalOf(req)?.name ?? 'admin',
    );
    return { policy };
  });
}
