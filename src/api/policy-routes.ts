import type { FastifyInstance } from 'fastify';
import { readPolicy } from './calendar-routes.ts';

/**
 * The server's release policy (windows, freezes), as applied with `sluice apply -f policy.yaml`
 * (`kind: ReleasePolicy`, by an approver or admin: engine/apply-entry.ts). Release gates and the
 * calendar read it on each call; rollbacks never consult it.
 */
export function registerPolicyRoutes(app: FastifyInstance, dataDir: string): void {
  app.get('/api/policy', async () => ({ policy: await readPolicy(dataDir) }));
}
