/**
 * GET /api/events: server-sent events replay the log after a sequence number, then go live,
 * with no gap and no duplicate.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deployedServer, serviceSpec } from './support/sluice.ts';

interface Sse {
  id: number;
  type: string;
  data: { seq: number; type: string; actor: string; weights?: Record<string, number> };
}

async function* readEvents(url: string, token: string, signal: AbortSignal): AsyncGenerator<Sse> {
  const res = await fetch(url, { signal, headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body!) {
    buffer += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const field = (name: string) =>
        block
          .split('\n')
          .find((l) => l.startsWith(`${name}: `))
          ?.slice(name.length + 2);
      if (field('data') !== undefined)
        yield { id: Number(field('id')), type: field('event')!, data: JSON.parse(field('data')!) };
    }
  }
}

test('the event stream replays the log and continues live in order', { timeout: 60_000 }, async (t) => {
  const { server, listenPort } = await deployedServer(t, { instances: 1 });

  const abort = new AbortController();
  t.after(() => abort.abort());
  const seen: Sse[] = [];
  const reading = (async () => {
    for await (const e of readEvents(`${server.url}/api/events?service=checkout&after=0`, server.token, abort.signal)) {
      seen.push(e);
      if (e.type === 'release.paused') return;
    }
  })();
  // Live part: a release that stops at an open pause.
  await new Promise((r) => setTimeout(r, 300));
  await server.apply(
    serviceSpec({ version: '2.0.0', listenPort, instances: 1, steps: ['setWeight: 30', 'pause: {}'] }),
  );
  await reading;

  const types = seen.map((e) => e.type);
  assert.deepEqual(
    types.slice(0, 3),
    ['spec.applied', 'release.started', 'target.starting'],
    'the replay starts at the beginning',
  );
  assert.ok(types.includes('release.succeeded'), 'the first deploy is replayed');
  const live = types.slice(types.lastIndexOf('spec.applied'));
  assert.deepEqual(
    live.filter((t) => t !== 'analysis.evaluated'),
    [
      'spec.applied',
      'release.started',
      'target.starting',
      'target.ready',
      'step.started',
      'traffic.shifted',
      'step.started',
      'release.paused',
    ],
  );
  const ids = seen.map((e) => e.id);
  assert.deepEqual(
    ids,
    [...ids].sort((a, b) => a - b),
    'in order',
  );
  assert.equal(new Set(ids).size, ids.length, 'no duplicate');
  assert.ok(seen.every((e) => e.id === e.data.seq && e.type === e.data.type));
  assert.deepEqual(seen.find((e) => e.type === 'traffic.shifted' && e.data.weights?.['2'] === 30)?.data.weights, {
    '2': 30,
    '1': 70,
  });
  assert.equal(seen.find((e) => e.type === 'spec.applied')!.data.actor, 'e2e-test');
});
