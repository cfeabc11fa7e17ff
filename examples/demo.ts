/**
 * `npm start`: a narrated, self-running demo of Sluice against a real `sluice server` child
 * process and real traffic. It deploys checkout 1.0.0, releases 2.0.0 (fails 10% of requests:
 * rolled back automatically), releases 3.0.0 (healthy: reaches 100%), prints what users saw, then
 * removes everything it started and proves no process is left. `--quick` halves the pauses.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceEvent } from '../src/core/events.ts';
import type { Load } from '../test/support/load.ts';
import { runActs, SERVICE } from './demo/acts.ts';
import { SluiceApi } from './demo/api.ts';
import { followEvents, type EventStream } from './demo/event-stream.ts';
import { Narrator } from './demo/narrator.ts';
import { ProcessLedger } from './demo/process-ledger.ts';
import { ReleaseNarration } from './demo/release-narration.ts';
import { describe, freePorts, SluiceServer } from './demo/server-process.ts';
import { printDoItYourself, printSummary } from './demo/summary.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHECKOUT_DIR = join(ROOT, 'examples', 'checkout');

/** What the demo has started so far; cleanup() undoes exactly this, whatever point it reached. */
interface Session {
  tmpDir?: string;
  server?: SluiceServer;
  /** The admin token the server wrote to its data dir on first start (docs/access.md). */
  token?: string;
  events?: EventStream;
  load?: Load;
  ledger?: ProcessLedger;
  narration?: ReleaseNarration;
  applied: boolean;
}

const narrator = new Narrator();
/** Aborted by Ctrl-C (or SIGTERM/SIGHUP) and by a stray error: every wait stops, cleanup runs. */
const interrupt = new AbortController();
let interruptedBy: string | null = null;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (interruptedBy === null) {
      interruptedBy = signal;
      narrator.say(`${signal}: stopping the demo and removing what it started`, 'warn');
      interrupt.abort(new Error(`interrupted by ${signal}`));
    } else {
      narrator.say(
        'still cleaning up (a few seconds): the service is being deleted so no process is left behind',
        'warn',
      );
    }
  });
}
process.on('unhandledRejection', (err) => interrupt.abort(err instanceof Error ? err : new Error(String(err))));

function usage(): number {
  const unknown = process.argv.slice(2).filter((a) => a !== '--quick');
  if (unknown.length === 0) return 0;
  process.stderr.write(
    `examples/demo.ts: unknown argument ${unknown.join(' ')}; the only option is --quick (shorter pauses)\n`,
  );
  return 2;
}

async function run(session: Session, quick: boolean): Promise<void> {
  const signal = interrupt.signal;
  session.tmpDir = await mkdtemp(join(tmpdir(), 'sluice-demo-'));
  const dataDir = join(session.tmpDir, 'data');
  const specDir = join(session.tmpDir, 'specs');
  await mkdir(specDir);
  const [apiPort, servicePort] = await freePorts(2);
  if (apiPort === undefined || servicePort === undefined) throw new Error('could not find two free ports on 127.0.0.1');

  narrator.act('Sluice demo: canary releases watched by a rollback contract');
  narrator.say(`Starting a real sluice server on 127.0.0.1:${apiPort} (data in ${dataDir})`);
  session.server = await SluiceServer.start({ root: ROOT, dataDir, port: apiPort, signal });
  narrator.say(
    `sluice server is up (pid ${session.server.pid}) at ${session.server.url}; following its event stream for ${SERVICE}`,
  );
  session.token = (await readFile(join(dataDir, 'admin.token'), 'utf8')).trim();

  const narration = (session.narration = new ReleaseNarration(narrator));
  const ledger = (session.ledger = new ProcessLedger(join(dataDir, 'services', SERVICE), 'server.ts'));
  const onEvent = (e: ServiceEvent) => {
    narration.onEvent(e);
    ledger.noteEvent(e, narration.versionOf);
  };
  session.events = followEvents(
    session.server.url,
    SERVICE,
    onEvent,
    (err) => narrator.say(`(${err.message})`, 'warn'),
    session.token,
  );
  await session.events.opened;

  const api = new SluiceApi(session.server.url, signal, session.token);
  session.applied = true;
  const result = await runActs({
    narrator,
    api,
    checkoutDir: CHECKOUT_DIR,
    specDir,
    listen: `127.0.0.1:${servicePort}`,
    quick,
    signal,
    onTraffic: (load) => (session.load = load),
  });
  const report = await session.load?.stop();
  await ledger.noteFiles(narration.versionOf);
  printSummary(narrator, report?.samples ?? [], result.acts, result.rollback, '2.0.0');
  printDoItYourself(narrator);
}

/** Undo what the session started, in order, each step bounded; returns what went wrong. */
async function cleanup(s: Session): Promise<string[]> {
  const problems: string[] = [];
  const attempt = async (what: string, step: () => Promise<unknown>) => {
    try {
      await step();
    } catch (err) {
      problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  narrator.act('Cleaning up');
  await attempt('stopping the traffic', async () => s.load?.stop());
  s.events?.close();
  await attempt('reading the service pids', async () => s.ledger?.noteFiles(s.narration?.versionOf ?? String));
  if (s.server?.running && s.applied) {
    narrator.say(`DELETE /api/services/${SERVICE}: stopping its instances and its proxy`);
    // A fresh client: the interrupted one would refuse to call.
    await attempt(`DELETE /api/services/${SERVICE}`, async () =>
      new SluiceApi(s.server?.url ?? '', undefined, s.token).delete(SERVICE).catch((err: Error) => {
        if (!/answered 404/.test(err.message)) throw err;
      }),
    );
  }
  if (s.server) {
    const exit = await s.server.stop();
    narrator.say(`sluice server (pid ${s.server.pid}) stopped: ${describe(exit)}`);
  }
  if (s.ledger) {
    // Again: an instance whose start raced the delete has written its state file by now.
    await attempt('reading the service pids', async () => s.ledger?.noteFiles(s.narration?.versionOf ?? String));
    const tracked = s.ledger.all;
    const killed = s.ledger.killLeftovers();
    if (killed.length > 0)
      problems.push(
        `the server left these running, killed now: ${killed.map((p) => `${p.role} (pid ${p.pid})`).join(', ')}`,
      );
    const proxy = tracked.filter((p) => p.role === 'proxy').map((p) => p.pid);
    const instances = tracked.filter((p) => p.role !== 'proxy').map((p) => p.pid);
    let left = s.ledger.leftovers();
    for (let waited = 0; left.length > 0 && waited < 3000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      left = s.ledger.leftovers();
    }
    if (left.length > 0) problems.push(`still running: ${left.map((p) => `pid ${p.pid} ${p.args}`).join('; ')}`);
    else if (tracked.length > 0) {
      const parts = [
        ...(proxy.length > 0 ? [`the proxy (pid ${proxy.join(', ')})`] : []),
        ...(instances.length > 0
          ? [`${instances.length} instance${instances.length === 1 ? ' (pid' : 's (pids'} ${instances.join(', ')})`]
          : []),
      ];
      narrator.say(`No process left behind: ${parts.join(' and ')} have all exited`, 'good');
    }
  }
  if (s.tmpDir) await attempt(`removing ${s.tmpDir}`, () => rm(s.tmpDir ?? '', { recursive: true, force: true }));
  return problems;
}

async function main(): Promise<number> {
  const bad = usage();
  if (bad !== 0) return bad;
  const session: Session = { applied: false };
  let failure: unknown = null;
  try {
    await run(session, process.argv.includes('--quick'));
  } catch (err) {
    failure = err;
    const cause = interrupt.signal.aborted ? interrupt.signal.reason : err;
    const server = session.server;
    // A refused call often means the server died; its exit may be reported a moment later.
    if (server !== undefined && interruptedBy === null)
      await Promise.race([server.exited, new Promise((resolve) => setTimeout(resolve, 500))]);
    const died =
      server !== undefined && !server.running
        ? ` (the sluice server had exited: ${describe(await server.exited)})`
        : '';
    narrator.say(`The demo stopped: ${cause instanceof Error ? cause.message : String(cause)}${died}`, 'bad');
  }
  const problems = await cleanup(session);
  for (const p of problems) narrator.say(`Cleanup problem: ${p}`, 'bad');
  if ((failure !== null && interruptedBy === null) || problems.length > 0) {
    if (session.server) narrator.block(['', "The sluice server's last output:", session.server.outputTail()], 'dim');
  }
  if (failure === null && problems.length === 0) {
    narrator.say(
      `Done in ${((Date.now() - narrator.startedAt) / 1000).toFixed(1)} s; the temp dir is removed.`,
      'good',
    );
    return 0;
  }
  return interruptedBy === null ? 1 : 130;
}

process.exitCode = await main();
// Everything is stopped by now; should a handle still hold the event loop, do not hang on it.
setTimeout(() => process.exit(), 2000).unref();
