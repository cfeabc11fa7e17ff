/**
 * The hash-chained audit trail against a real server and its SQLite file: `sluice audit verify`
 * passes on an untouched log, fails naming the event when one byte of a past event is flipped
 * or an event is deleted; `sluice audit export` gives the events with their hashes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { eventHash, GENESIS_HASH } from '../src/store/event-hash.ts';
import { CLI, deployedServer, ROOT, type SluiceServer } from './support/sluice.ts';

function sluice(server: SluiceServer, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd: ROOT,
        env: { ...process.env, SLUICE_SERVER: server.url, SLUICE_TOKEN: server.token },
        timeout: 30_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Flips the lowest bit of one byte of the event's body, inside `within` (a text the body holds). */
function flipByte(db: DatabaseSync, seq: number, within: string): { restore: () => void } {
  const { body } = db.prepare('SELECT body FROM events WHERE seq = ?').get(seq) as { body: string };
  const i = body.indexOf(within);
  assert.ok(i >= 0, `event ${seq} holds ${within}`);
  const flipped = body.slice(0, i) + String.fromCharCode(body.charCodeAt(i) ^ 1) + body.slice(i + 1);
  db.prepare('UPDATE events SET body = ? WHERE seq = ?').run(flipped, seq);
  return { restore: () => void db.prepare('UPDATE events SET body = ? WHERE seq = ?').run(body, seq) };
}

test('the audit trail: verify, tampering found and named, export', { timeout: 120_000 }, async (t) => {
  const { server } = await deployedServer(t, { instances: 1 });
  // The server keeps running: the file is edited under it, as an intruder with disk access would.
  const db = new DatabaseSync(join(server.dataDir, 'sluice.db'));
  t.after(() => db.close());

  const intact = await sluice(server, 'audit', 'verify');
  assert.equal(intact.code, 0, intact.stdout + intact.stderr);
  const [, checked, seq, hash] =
    /^audit trail intact: (\d+) events chained; head (\d+):([0-9a-f]{64})/.exec(intact.stdout) ?? [];
  assert.ok(Number(checked) >= 5, intact.stdout);

  await t.test('one flipped byte of a past event: verify exits 1 naming it', async () => {
    const applied = db.prepare("SELECT seq FROM events WHERE type = 'spec.applied' ORDER BY seq LIMIT 1").get() as {
      seq: number;
    };
    const flip = flipByte(db, applied.seq, 'test.yaml');
    const broken = await sluice(server, 'audit', 'verify');
    assert.equal(broken.code, 1);
    assert.match(
      broken.stdout,
      new RegExp(
        `^audit trail BROKEN at event ${applied.seq}: event ${applied.seq} \\(spec\\.applied, checkout\\) was changed after it was written`,
      ),
    );
    const api = await server.api<{ ok: boolean; firstBad: { seq: number } }>('GET', '/api/audit/verify');
    assert.deepEqual([api.body.ok, api.body.firstBad.seq], [false, applied.seq]);
    flip.restore();
    assert.equal((await sluice(server, 'audit', 'verify')).code, 0, 'restored: intact again');
  });

  await t.test('an anchor from an earlier verify still matches the untouched log', async () => {
    const anchored = await sluice(server, 'audit', 'verify', '--anchor', `${seq}:${hash}`);
    assert.equal(anchored.code, 0, anchored.stdout);
    assert.equal((await sluice(server, 'audit', 'verify', '--anchor', `${seq}:${'0'.repeat(64)}`)).code, 1);
    assert.equal((await sluice(server, 'audit', 'verify', '--anchor', 'nonsense')).code, 2);
  });

  await t.test('export --since gives every event with its hashes, chained; -o json as an array', async () => {
    const exported = await sluice(server, 'audit', 'export', '--since', '1h', '-o', 'jsonl');
    assert.equal(exported.code, 0, exported.stderr);
    const lines = exported.stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { seq: number; prevHash: string; hash: string; actor: string; time: string; type: string },
      );
    assert.ok(lines.length >= Number(checked));
    assert.equal(lines[0]!.prevHash, GENESIS_HASH);
    for (const [i, e] of lines.entries()) {
      if (i > 0) assert.equal(e.prevHash, lines[i - 1]!.hash, `line ${i + 1} chains to the one before`);
      const { prevHash, hash: h, time: _time, ...event } = e;
      assert.equal(eventHash(prevHash, event), h, 'a compliance tool can recompute each hash from the line');
    }
    assert.ok(lines.some((e) => e.type === 'spec.applied' && e.actor === 'e2e-test'));
    assert.equal(
      (await sluice(server, 'audit', 'export', '--since', new Date(Date.now() + 3_600_000).toISOString())).stdout,
      '',
      'nothing after a future time',
    );
    const asArray = JSON.parse((await sluice(server, 'audit', 'export', '-o', 'json')).stdout) as unknown[];
    assert.equal(asArray.length, lines.length);
    const bad = await sluice(server, 'audit', 'export', '--since', 'last tuesday');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since "last tuesday" is neither an ISO time/);
  });

  await t.test('a deleted event: verify exits 1 naming the missing one', async () => {
    const victim = db.prepare("SELECT seq FROM events WHERE type = 'target.ready' ORDER BY seq LIMIT 1").get() as {
      seq: number;
    };
    db.prepare('DELETE FROM events WHERE seq = ?').run(victim.seq);
    const broken = await sluice(server, 'audit', 'verify');
    assert.equal(broken.code, 1);
    assert.match(
      broken.stdout,
      new RegExp(`^audit trail BROKEN at event ${victim.seq}: event ${victim.seq} is missing: deleted from the log`),
    );
  });
});
