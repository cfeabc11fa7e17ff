/**
 * Release trains on replicas: three services (payments ← checkout ← search, each depending on the
 * one before) deployed on the replicas named, so their leases are spread; what the shared log
 * holds of them, read straight from PostgreSQL; a train's view polled until it ends.
 */
import assert from 'node:assert/strict';
import pg from 'pg';
import type { TrainView } from '../../src/views/index.ts';
import { freePort, serviceSpec, type SluiceServer } from './sluice.ts';

export const MEMBERS = ['payments', 'checkout', 'search'] as const;
export type Member = (typeof MEMBERS)[number];
const DEPENDS: Record<Member, string | null> = { payments: null, checkout: 'payments', search: 'checkout' };

/** A contract that passes without traffic (a signal nobody sends), so no load is needed to judge a step. */
const CONTRACT = `    interval: 250ms
    window: 2s
    rules:
      - { signal: complaint, failIf: { count: 100, within: 1m } }`;

export function memberSpec(name: Member, version: string, port: number, pauseS: number): string {
  const dep = DEPENDS[name];
  return `${serviceSpec({ name, version, listenPort: port, instances: 1, contract: CONTRACT, steps: ['setWeight: 50', `pause: { duration: ${pauseS}s }`] })}${
    dep === null ? '' : `  dependsOn:\n    - { service: ${dep}, version: ">=1.0.0" }\n`
  }`;
}

export const trainSpec = (extra = '') => `apiVersion: sluice.dev/v1alpha1
kind: ReleaseTrain
metadata: { name: spring }
spec:
  services:
${MEMBERS.map((m) => `    - { name: ${m}, version: "2.0.0" }`).join('\n')}
  maxParallel: 1
  onFailure: rollbackAll
${extra}`;

/** Each member deployed at 1.0.0 on its replica (which takes its lease), in dependency order. */
export async function deployMembers(
  on: Record<Member, SluiceServer>,
  pauseS: number,
): Promise<Record<Member, (version: string) => string>> {
  const specs = {} as Record<Member, (version: string) => string>;
  for (const m of MEMBERS) {
    const port = await freePort();
    specs[m] = (version) => memberSpec(m, version, port, pauseS);
    await on[m].apply(specs[m]('1.0.0'));
    await on[m].waitFor((s) => s.phase === 'Healthy', `${m} 1.0.0 healthy`, 30_000, m);
  }
  return specs;
}

export async function trainOf(server: SluiceServer, name = 'spring'): Promise<TrainView> {
  const r = await server.api<TrainView>('GET', `/api/trains/${name}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

export async function trainUntil(
  server: SluiceServer,
  done: (v: TrainView) => boolean,
  what: string,
  timeoutMs = 40_000,
): Promise<TrainView> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await server.api<TrainView>('GET', '/api/trains/spring');
    if (r.status === 200 && done(r.body)) return r.body;
    if (Date.now() > end) assert.fail(`${what}: ${JSON.stringify(r.body, null, 2)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

export interface LogCounts {
  /** Releases started per member, by the version released (`payments 2.0.0`). */
  releases: Record<string, number>;
  /** The train's events, `type member` (member when there is one), in log order. */
  train: string[];
}

/** What the shared log holds: every release.started of the members, and the train's events. */
export async function logCounts(url: string, name = 'spring'): Promise<LogCounts> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const releases: Record<string, number> = {};
    const started = await client.query<{ service: string; body: string }>(
      "SELECT service, body FROM events WHERE type = 'release.started' ORDER BY seq",
    );
    for (const r of started.rows) {
      const body = JSON.parse(r.body) as { release: { to: { version: string } } };
      const key = `${r.service} ${body.release.to.version}`;
      releases[key] = (releases[key] ?? 0) + 1;
    }
    const events = await client.query<{ type: string; body: string }>(
      'SELECT type, body FROM events WHERE service = $1 ORDER BY seq',
      [`_train:${name}`],
    );
    const train = events.rows.map((e) => {
      const member = (JSON.parse(e.body) as { member?: string }).member;
      return member === undefined ? e.type : `${e.type} ${member}`;
    });
    return { releases, train };
  } finally {
    await client.end();
  }
}

/** Who holds a lease now (null: nobody). */
export async function leaseHolder(url: string, name: string): Promise<{ holder: string; epoch: number } | null> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query<{ holder: string; epoch: string; live: boolean }>(
      'SELECT holder, epoch, expires_at > (extract(epoch from clock_timestamp()) * 1000) AS live FROM leases WHERE service = $1',
      [name],
    );
    const row = r.rows[0];
    return row === undefined || !row.live ? null : { holder: row.holder, epoch: Number(row.epoch) };
  } finally {
    await client.end();
  }
}
