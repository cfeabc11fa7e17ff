/**
 * The release-train benchmark (`npm run bench:trains`): (1) a 20-service train over a generated
 * dependency graph — its total time against its critical path (the longest chain of measured
 * service release times) and against releasing one at a time; (2) the time from a failure to the
 * last of 10 released services reverted, seen through their built-in proxies. Services run for
 * real (one instance each, blue-green so a reverted version is still warm). Prints one JSON
 * object on stdout; progress goes to stderr. Figures are defined in bench/README.md.
 */
import { describeMachine } from './machine.ts';
import { freePort, SERVICE_SCRIPT, SluiceServer } from '../test/support/sluice.ts';
import type { TrainView } from '../src/views/index.ts';

const log = (m: string) => process.stderr.write(`bench:trains ${m}\n`);

/** A blue-green service (switch at once, the old version kept warm 5 minutes) with its dependencies. */
function spec(
  name: string,
  version: string,
  port: number,
  deps: string[],
  command = `["node", "${SERVICE_SCRIPT}"]`,
): string {
  return `apiVersion: sluice.dev/v1alpha1
kind: Service
metadata: { name: ${name} }
spec:
  version: "${version}"
  target: { driver: process, command: ${command}, readiness: { path: /healthz, timeout: 10s }, instances: 1 }
  router: { driver: builtin, listen: 127.0.0.1:${port} }
  strategy:
    blueGreen: { previewHeader: { name: x-preview, value: "1" }, scaleDownDelay: 5m }
  rollbackContract:
    interval: 250ms
    rules:
      - { metric: error_rate, failIf: { above: baseline, by: 0.05 } }
${deps.length === 0 ? '' : `  dependsOn:\n${deps.map((d) => `    - { service: ${d}, version: ">=1.0.0" }`).join('\n')}\n`}`;
}

/** A small seeded generator, so every run releases the same graph. */
function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

async function waitTrain(server: SluiceServer, name: string, timeoutMs: number): Promise<TrainView> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const t = (await server.api<TrainView>('GET', `/api/trains/${name}`)).body;
    if (t.status !== 'Running' && t.status !== 'RollingBack') return t;
    if (Date.now() > until)
      throw new Error(
        `train ${name} still ${t.status} after ${timeoutMs} ms: ${JSON.stringify(t.services.map((s) => `${s.name}:${s.status}`))}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function deploy(server: SluiceServer, docs: string[], names: string[]): Promise<void> {
  await server.api('POST', '/api/apply', { spec: docs.join('---\n'), file: 'bench.yaml' });
  for (const n of names) await server.waitForPhase('Healthy', 120_000, n);
}

const train = (name: string, services: string[], maxParallel: number) => `apiVersion: sluice.dev/v1alpha1
kind: ReleaseTrain
metadata: { name: ${name} }
spec:
  services:
${services.map((s) => `    - { name: ${s}, version: "2.0.0" }`).join('\n')}
  maxParallel: ${maxParallel}
  onFailure: rollbackAll
`;

/** (1) 20 services, each depending on up to two earlier ones. */
async function twentyServices(server: SluiceServer) {
  const next = random(42);
  const names = Array.from({ length: 20 }, (_, i) => `s${String(i + 1).padStart(2, '0')}`);
  const deps = new Map(
    names.map((n, i) => [
      n,
      i === 0
        ? []
        : [...new Set([names[Math.floor(next() * i)]!, ...(next() < 0.5 ? [names[Math.floor(next() * i)]!] : [])])],
    ]),
  );
  const ports = new Map<string, number>();
  for (const n of names) ports.set(n, await freePort());
  log('deploying 20 services at 1.0.0');
  await deploy(
    server,
    names.map((n) => spec(n, '1.0.0', ports.get(n)!, deps.get(n)!)),
    names,
  );
  log('running the 20-service train');
  const started = Date.now();
  await server.apply(train('twenty', names, 4));
  const t = await waitTrain(server, 'twenty', 300_000);
  const totalMs = Date.now() - started;
  const duration = new Map(t.services.map((s) => [s.name, Date.parse(s.endedAt!) - Date.parse(s.startedAt!)]));
  // The critical path: the longest chain of dependent release times (a service starts once its dependencies are done).
  const finish = new Map<string, number>();
  for (const n of names) finish.set(n, duration.get(n)! + Math.max(0, ...deps.get(n)!.map((d) => finish.get(d)!)));
  const criticalPathMs = Math.max(...finish.values());
  const depth = (n: string): number => 1 + Math.max(0, ...deps.get(n)!.map(depth));
  return {
    status: t.status,
    services: 20,
    maxParallel: 4,
    edges: [...deps.values()].reduce((a, d) => a + d.length, 0),
    levels: Math.max(...names.map(depth)),
    totalMs,
    criticalPathMs,
    overCriticalPath: Math.round((totalMs / criticalPathMs) * 100) / 100,
    serialMs: [...duration.values()].reduce((a, b) => a + b, 0),
    serviceReleaseMs: { min: Math.min(...duration.values()), max: Math.max(...duration.values()) },
  };
}

/** (2) 10 services released, then the 11th (depending on all) fails: the 10 go back. */
async function reverseRollback(server: SluiceServer) {
  const names = Array.from({ length: 10 }, (_, i) => `r${String(i + 1).padStart(2, '0')}`);
  const ports = new Map<string, number>();
  for (const n of [...names, 'breaker']) ports.set(n, await freePort());
  // The breaker's 2.0.0 exits at start: its release fails once the train has released the 10.
  const breaker = `["node", "--input-type=module", "-e", "if (process.env.SLUICE_VERSION === '2.0.0') process.exit(1); await import('${SERVICE_SCRIPT}')"]`;
  log('deploying 10 services and the breaker at 1.0.0');
  await deploy(
    server,
    [
      ...names.map((n) => spec(n, '1.0.0', ports.get(n)!, [])),
      spec('breaker', '1.0.0', ports.get('breaker')!, names, breaker),
    ],
    [...names, 'breaker'],
  );
  const reverted = new Map<string, number>();
  let sawV2 = new Set<string>();
  let polling = true;
  const poll = (async () => {
    while (polling) {
      await Promise.all(
        names.map(async (n) => {
          try {
            const res = await fetch(`http://127.0.0.1:${ports.get(n)}/`, { signal: AbortSignal.timeout(2000) });
            await res.arrayBuffer();
            const v = res.headers.get('x-version');
            if (v === '2.0.0') sawV2.add(n);
            else if (v === '1.0.0' && sawV2.has(n) && !reverted.has(n)) reverted.set(n, Date.now());
          } catch {
            // counted below: a proxy that does not answer never reverts
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  log('running the train whose last service fails');
  await server.apply(train('reverse', [...names, 'breaker'], 10));
  const t = await waitTrain(server, 'reverse', 180_000);
  await new Promise((r) => setTimeout(r, 300));
  polling = false;
  await poll;
  const failedAt = Date.parse((await server.history('breaker'))[0]!.endedAt!);
  const lastReverted = Math.max(...reverted.values());
  const serverSide = await Promise.all(names.map(async (n) => Date.parse((await server.history(n))[0]!.endedAt!)));
  sawV2 = new Set();
  return {
    status: t.status,
    released: names.length,
    revertedThroughProxy: reverted.size,
    failureToLastRevertedMs: lastReverted - failedAt,
    failureToLastUndoConfirmedMs: Math.max(...serverSide) - failedAt,
    targetMs: 2000,
    met: reverted.size === names.length && lastReverted - failedAt <= 2000,
  };
}

const machine = describeMachine();
const server = await SluiceServer.start();
let result: unknown;
try {
  const twenty = await twentyServices(server);
  const reverse = await reverseRollback(server);
  result = { bench: 'trains', machine, twentyServiceTrain: twenty, reverseRollback: reverse };
} finally {
  await server.close();
}
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
