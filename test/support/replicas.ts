/** Replicas of `sluice server` on one test PostgreSQL, torn down (processes, data dirs) after the test. */
import { rmSync } from 'node:fs';
import { TestPostgres } from './postgres.ts';
import { killLeftovers, SluiceServer } from './sluice.ts';

export interface ReplicaSet {
  db: TestPostgres;
  url: string;
  /** The first replica, started with `ids[0]`; its admin token works on every replica. */
  servers: SluiceServer[];
  /** Another replica, with a data dir of its own (or the first's with `shareDataDir`). */
  add: (id: string) => Promise<SluiceServer>;
}

export async function startReplicas(
  t: { after: (fn: () => Promise<void>) => void },
  ids: string[],
  o: { shareDataDir?: boolean } = {},
): Promise<ReplicaSet> {
  const db = await TestPostgres.start();
  t.after(() => db.stop());
  const url = await db.createDatabase();
  const servers: SluiceServer[] = [];
  t.after(async () => {
    await Promise.all(servers.map((s) => s.kill('SIGKILL')));
    for (const dir of new Set(servers.map((s) => s.dataDir))) {
      killLeftovers(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  });
  const add = async (id: string): Promise<SluiceServer> => {
    const first = servers[0];
    const s = await SluiceServer.start({
      args: ['--store', url, '--replica-id', id],
      ...(first !== undefined && { token: first.token }),
      ...(first !== undefined && o.shareDataDir === true && { dataDir: first.dataDir }),
    });
    servers.push(s);
    return s;
  };
  for (const id of ids) await add(id);
  return { db, url, servers, add };
}
