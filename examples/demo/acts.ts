/**
 * The three acts of the demo: deploy 1.0.0, release 2.0.0 (which fails 10% of requests and is
 * rolled back by the contract), release 3.0.0 (healthy, reaches 100%). The running commentary
 * comes from the event stream (release-narration.ts); this file applies the specs, waits on the
 * status and prints what the API recorded.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseDocument } from 'yaml';
import type { Load } from '../../test/support/load.ts';
import { sleep, type RollbackView, type ServiceStatus, type SluiceApi } from './api.ts';
import type { Narrator } from './narrator.ts';
import { verdictLine } from './release-narration.ts';
import { startTraffic, tally, trafficShape, type Act } from './traffic.ts';

export const SERVICE = 'checkout';
const RPS = 200;
const RELEASE_TIMEOUT_MS = 60_000;

export interface Stage {
  narrator: Narrator;
  api: SluiceApi;
  /** examples/checkout: the specs' relative `command` resolves against it. */
  checkoutDir: string;
  specDir: string;
  /** host:port the service's proxy listens on. */
  listen: string;
  quick: boolean;
  signal: AbortSignal;
  /** Set once traffic starts, so the caller can stop it whatever happens. */
  onTraffic: (load: Load) => void;
}

export interface ActsResult {
  acts: Act[];
  rollback: RollbackView;
  final: ServiceStatus;
}

export interface PreparedSpec {
  text: string;
  file: string;
  /** As the spec says (spec.version, spec.target.instances, spec.target.env.FAIL_RATE), for the narration. */
  version: string;
  instances: string;
  failRate: string;
  /** The contract's rules in one line: "error_rate above baseline + 0.02, or …". */
  contract: string;
}

/**
 * Copies examples/checkout/<name> into specDir with router.listen set to the demo's free port
 * (the examples stay untouched) and returns the text and path to apply.
 */
export async function prepareSpec(
  checkoutDir: string,
  specDir: string,
  name: string,
  listen: string,
): Promise<PreparedSpec> {
  const source = join(checkoutDir, name);
  const doc = parseDocument(await readFile(source, 'utf8'));
  if (!doc.hasIn(['spec', 'router', 'listen']))
    throw new Error(`${source}: spec.router.listen is missing; the demo needs it to point the proxy at a free port`);
  doc.setIn(['spec', 'router', 'listen'], listen);
  const file = join(specDir, basename(name));
  const text = doc.toString();
  await writeFile(file, text);
  const field = (path: string[]) => String(doc.getIn(path) ?? 'unset');
  return {
    text,
    file,
    version: field(['spec', 'version']),
    instances: field(['spec', 'target', 'instances']),
    failRate: field(['spec', 'target', 'env', 'FAIL_RATE']),
    contract: describeRules(
      (doc.toJS() as { spec?: { rollbackContract?: { rules?: unknown } } }).spec?.rollbackContract?.rules,
    ),
  };
}

interface RuleText {
  metric?: unknown;
  failIf?: { above?: unknown; below?: unknown; by?: unknown; times?: unknown };
}

/** "error_rate above baseline + 0.02, or latency_p95 above baseline + 300ms", as the spec writes them. */
function describeRules(rules: unknown): string {
  if (!Array.isArray(rules) || rules.length === 0) return 'no rules';
  return (rules as RuleText[])
    .map(({ metric, failIf = {} }) => {
      const op = failIf.above !== undefined ? 'above' : 'below';
      const times = failIf.times !== undefined ? ` × ${String(failIf.times)}` : '';
      const by = failIf.by !== undefined ? ` ${op === 'above' ? '+' : '-'} ${String(failIf.by)}` : '';
      return `${String(metric)} ${op} ${String(failIf[op])}${times}${by}`;
    })
    .join(', or ');
}

export async function runActs(s: Stage): Promise<ActsResult> {
  const n = s.narrator;
  const pause = (ms: number) => sleep(s.quick ? ms / 2 : ms, s.signal);
  const prepare = (name: string) => prepareSpec(s.checkoutDir, s.specDir, name, s.listen);
  const apply = async (name: string, spec?: PreparedSpec) => {
    const { text, file, version, failRate } = spec ?? (await prepare(name));
    n.say(`POST /api/apply ${name} (version ${version}, FAIL_RATE ${failRate})`, 'dim');
    await s.api.apply(text, file, s.checkoutDir);
  };
  const acts: Act[] = [];
  const beginAct = (name: string) => {
    const now = Date.now();
    const previous = acts.at(-1);
    if (previous) previous.to = now;
    acts.push({ name, from: now, to: Number.POSITIVE_INFINITY });
  };

  n.act(`Act 1: deploy checkout 1.0.0`);
  const v1 = await prepare('v1.yaml');
  n.say(`Deploying checkout 1.0.0 (${v1.instances} instances) behind the built-in proxy on ${s.listen}`);
  await apply('v1.yaml', v1);
  await s.api.waitFor(SERVICE, '1.0.0', 'Healthy', RELEASE_TIMEOUT_MS);
  beginAct('1. deploy 1.0.0');
  const load = startTraffic(`http://${s.listen}/checkout`, RPS);
  s.onTraffic(load);
  n.say(`Users arrive: ${trafficShape(RPS)}`);
  await pause(4000);
  n.say(`So far: ${tally(load.samples)}`);

  n.act('Act 2: release 2.0.0, which fails 10% of requests');
  const v2 = await prepare('v2-errors.yaml');
  n.say('Releasing 2.0.0, which fails 10% of requests');
  n.say(`Its rollback contract fails if ${v2.contract}`);
  beginAct('2. release 2.0.0');
  await apply('v2-errors.yaml', v2);
  await s.api.waitFor(SERVICE, '2.0.0', 'RolledBack', RELEASE_TIMEOUT_MS);
  const rollback = await rollbackLog(s);
  printRollback(n, rollback);
  await pause(3000);
  n.say(
    `Since traffic was reverted: ${tally(load.samples, Date.parse(rollback.trafficRevertedAt ?? rollback.detectedAt))}`,
  );

  n.act('Act 3: release 3.0.0 (healthy)');
  n.say('Releasing 3.0.0 (healthy): same steps, same contract');
  beginAct('3. release 3.0.0');
  await apply('v3.yaml');
  const final = await s.api.waitFor(SERVICE, '3.0.0', 'Healthy', RELEASE_TIMEOUT_MS);
  n.say(`checkout is ${final.phase}: 3.0.0 takes ${final.weights['3.0.0'] ?? 0}% of traffic`, 'good');
  await pause(3000);
  const last = acts.at(-1);
  if (last) last.to = Date.now();
  return { acts, rollback, final };
}

/** The rollback log once the canary has stopped too (RolledBack is reported as soon as traffic is back). */
async function rollbackLog(s: Stage): Promise<RollbackView> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const log = (await s.api.status(SERVICE)).lastRollback;
    if (log !== null && log.canaryStoppedAt !== null) return log;
    if (Date.now() > deadline) {
      if (log !== null) return log;
      throw new Error(`${SERVICE} is RolledBack but GET /api/services/${SERVICE} has no lastRollback`);
    }
    await sleep(100, s.signal);
  }
}

function printRollback(n: Narrator, log: RollbackView): void {
  const t = (iso: string | null) => (iso === null ? null : Date.parse(iso));
  const detected = t(log.detectedAt) ?? 0;
  const after = (iso: string | null) => (iso === null ? 'not recorded' : `+${(t(iso) ?? 0) - detected} ms`);
  n.say('The rollback log, as GET /api/services/checkout records it:', 'plain');
  n.block([
    `           trigger    rule ${log.trigger} (${log.kind})`,
    `           reason     ${log.reason}`,
    ...log.verdicts.map((v, i) => `           ${i === 0 ? 'figures' : '       '}    ${v.rule} ${verdictLine(v)}`),
    `           timeline   detected at ${n.elapsed(detected)} → traffic reverted ${after(log.trafficRevertedAt)} → canary stopped ${after(log.canaryStoppedAt)}`,
    `           revertMs   ${log.revertMs ?? 'not recorded'}`,
  ]);
}
