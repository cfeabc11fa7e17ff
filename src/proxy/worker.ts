/**
 * One worker of a multi-worker proxy (`--workers N`, N > 1), forked by the primary (main.ts,
 * worker-plane.ts) with node:cluster: it serves traffic on the shared listen socket with its own
 * DataPlane, applies every table, flag config and fault the primary sends, answers the primary's
 * metrics reads, and reports bad answers and fault hits as they happen (at most one message per
 * event-loop turn). It has no admin API and writes no file.
 * argv: --listen-host <host> --listen-port <port> --upstream-timeout-ms <ms>
 */
import { parseArgs } from 'node:util';
import { DataPlane } from './data-plane.ts';
import { FlagPlane } from './flag-plane.ts';
import { createTrafficServer, drain, listen } from './traffic.ts';
import type { FromWorker, ToWorker } from './worker-messages.ts';

const { values } = parseArgs({
  options: {
    'listen-host': { type: 'string' },
    'listen-port': { type: 'string' },
    'upstream-timeout-ms': { type: 'string' },
  },
});
const tell = (m: FromWorker): void => void process.send?.(m);

// Fault hits, reported to the primary (which answers GET /faults) once per turn.
let hits: Record<string, { n: number; first: number; last: number }> = {};
let hitsQueued = false;
const onHit = (id: string, now: number): void => {
  const h = (hits[id] ??= { n: 0, first: now, last: now });
  h.n++;
  h.last = now;
  if (hitsQueued) return;
  hitsQueued = true;
  setImmediate(() => {
    hitsQueued = false;
    tell({ t: 'hits', hits });
    hits = {};
  });
};

const plane = new DataPlane(Number(values['upstream-timeout-ms']), onHit);
const flags = new FlagPlane();
const traffic = createTrafficServer(plane, flags);

// Bad answers (status ≥ 400 or none), per key: the primary sums them for GET /metrics/watch.
let bad: Record<string, number> = {};
let badQueued = false;
const watched = new Set<string>();
function watchKeys(keys: readonly string[]): void {
  for (const key of keys) {
    if (watched.has(key)) continue;
    watched.add(key);
    const metrics = plane.metricsOf(key);
    const arm = (): void =>
      void metrics.onNextBad(() => {
        bad[key] = metrics.totalBad;
        arm();
        if (badQueued) return;
        badQueued = true;
        setImmediate(() => {
          badQueued = false;
          tell({ t: 'bad', totals: bad });
          bad = {};
        });
      });
    arm();
  }
}

function applyTable(table: Parameters<DataPlane['apply']>[0]): void {
  plane.apply(table);
  watchKeys(table.backends.map((b) => b.key));
}

let stopping = false;
process.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'init':
      if (m.table !== null) applyTable(m.table);
      if (m.flags !== null) flags.apply(m.flags);
      if (m.faults.length > 0) plane.faults.set(m.faults, m.now);
      listen(traffic, Number(values['listen-port']), values['listen-host']!).then(
        (port) => tell({ t: 'listening', port }),
        (err: NodeJS.ErrnoException) => {
          tell({ t: 'listenError', code: err.code ?? '', message: err.message });
          process.exit(1);
        },
      );
      return;
    case 'routes':
      applyTable(m.table);
      return tell({ t: 'applied', seq: m.seq });
    case 'flags':
      return flags.apply(m.config);
    case 'faults.set':
      plane.faults.set(m.rules, m.now);
      return;
    case 'faults.clear':
      plane.faults.clear(m.ids);
      return;
    case 'metrics':
      return tell({ t: 'metrics', seq: m.seq, backends: plane.metrics(m.now, m.windowMs, m.keys) });
    case 'flagMetrics':
      return tell({ t: 'flagMetrics', seq: m.seq, flags: flags.metrics() });
    case 'stop':
      if (stopping) return;
      stopping = true;
      drain(traffic, () => {
        plane.close();
        process.exit(0);
      });
      return;
  }
});
tell({ t: 'ready' });
// The primary went away (killed): stop serving rather than outlive it unsupervised.
process.on('disconnect', () => process.exit(0));
// Signals go to the primary, which stops the workers in order; a worker ignores them itself.
process.on('SIGTERM', () => undefined);
process.on('SIGINT', () => undefined);
