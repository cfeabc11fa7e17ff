/**
 * Flag latency rules: false rollbacks and requests to detect, through the flag judge
 * (core/flags/flag-judge.ts) as the flag guard calls it. Prints one JSON object.
 *
 *   node bench/flag-latency.ts [--flags 200] [--requests 6000] [--seed 1]
 *
 * Each flag serves "on" to 50% of its requests; the guard judges every 100 requests (a 250 ms tick
 * at 400 requests/s) on the counts since the flag's exposure was set, and a flag is rolled back at
 * its first Fail. Latency: lognormal, median 40 ms, σ 0.5 (p95 ≈ 91 ms); no errors. Rules: errorRate
 * { by: 0.01 } and latency_p95 above off + 50 ms, α 0.005 each.
 * (a) healthy: "on" as fast as "off"; (b) "on" +100 ms on every request; (c) "on" +30 ms (within
 * the rule: must not fail either).
 */
import { parseArgs } from 'node:util';
import { record } from '../src/core/analysis/histogram.ts';
import { judgeFlag, type VariantTally } from '../src/core/flags/flag-judge.ts';
import type { FeatureFlag } from '../src/core/flags/model.ts';
import { rng } from '../src/core/testing/simulator.ts';
import { describeMachine } from './machine.ts';

const { values } = parseArgs({
  options: {
    flags: { type: 'string', default: '200' },
    requests: { type: 'string', default: '6000' },
    seed: { type: 'string', default: '1' },
  },
});
const FLAGS = Number(values.flags);
const REQUESTS = Number(values.requests);
const LOOK_EVERY = 100;

const flag: FeatureFlag = {
  name: 'f',
  type: 'release',
  owner: null,
  description: null,
  lifetimeDays: 40,
  variants: { on: true, off: false },
  defaultVariant: 'off',
  offVariant: 'off',
  environments: { production: { enabled: true, rules: [] } },
  rollbackContract: {
    service: 's',
    environment: 'production',
    stickiness: { header: 'x-user-id' },
    errorRate: { by: 0.01, times: 1 },
    alpha: 0.005,
    minSamples: 50,
    latency: [{ name: 'latency_p95', metric: 'latency_p95', failIf: { op: 'above', reference: 'baseline', by: 50 } }],
  },
};

function run(extraMs: number, seed: number): { failedAt: number | null; rule: string | null } {
  const random = rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const tallies: Record<string, Required<VariantTally>> = {
    on: { requests: 0, errors: 0, latency: {} },
    off: { requests: 0, errors: 0, latency: {} },
  };
  for (let n = 1; n <= REQUESTS; n++) {
    const on = random() < 0.5;
    const t = tallies[on ? 'on' : 'off']!;
    t.requests++;
    record(t.latency, 40 * Math.exp(0.5 * normal()) + (on ? extraMs : 0));
    if (n % LOOK_EVERY !== 0) continue;
    const failed = judgeFlag(flag, tallies).find((v) => v.judgment.outcome === 'Fail');
    if (failed) return { failedAt: n, rule: failed.rule === 'errorRate' ? 'errorRate' : failed.rule.name };
  }
  return { failedAt: null, rule: null };
}

function scenario(extraMs: number) {
  const started = performance.now();
  const runs = Array.from({ length: FLAGS }, (_, i) => run(extraMs, Number(values.seed) * 100_003 + i));
  const failed = runs.filter((r) => r.failedAt !== null).map((r) => r.failedAt!);
  failed.sort((a, b) => a - b);
  return {
    extraMs,
    flags: FLAGS,
    rolledBack: failed.length,
    share: failed.length / FLAGS,
    medianRequestsToFail: failed.length === 0 ? null : failed[Math.floor(failed.length / 2)],
    rules: [...new Set(runs.flatMap((r) => (r.rule === null ? [] : [r.rule])))],
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}

console.log(
  JSON.stringify({
    bench: 'flag-latency',
    settings: { flags: FLAGS, requests: REQUESTS, lookEvery: LOOK_EVERY, seed: Number(values.seed), alpha: 0.005 },
    healthy: scenario(0),
    slow100ms: scenario(100),
    within30ms: scenario(30),
    machine: describeMachine(),
  }),
);
