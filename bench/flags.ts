/**
 * Flags benchmark (docs/flags.md). Prints one JSON object:
 *
 *   node bench/flags.ts [--seconds 3] [--providers 100] [--changes 20]
 *
 * (a) in-process evaluation per call (core/flags/evaluate.ts, what the provider and the proxy
 *     run): a static flag, and a flag with three rules (string, numeric and semver conditions)
 *     and a sticky percentage; 10^6 calls each after a warm-up, over distinct targeting keys.
 *     Targets: ≤ 0.2 µs and ≤ 1 µs.
 * (b) OFREP requests/s: single evaluations of the three-rule flag against a server in this
 *     process, 32 requests in flight over keep-alive, for --seconds.
 * (c) propagation: --providers in-process providers (sluice/openfeature, each its own stream)
 *     connected to the server; the time from a flag change asked of the API (what `sluice flag
 *     set` sends) to each provider holding the new set, over --changes changes. Target: p99 ≤ 200 ms.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startServer } from '../src/api/server.ts';
import { compileFlag, evaluate } from '../src/core/flags/evaluate.ts';
import type { FeatureFlag } from '../src/core/flags/model.ts';
import { SluiceProvider } from '../src/openfeature/sluice-provider.ts';
import { describeMachine } from './machine.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    providers: { type: 'string', default: '100' },
    changes: { type: 'string', default: '20' },
  },
});
const SECONDS = Number(values.seconds);
const PROVIDERS = Number(values.providers);
const CHANGES = Number(values.changes);

const base = {
  type: 'release',
  owner: null,
  description: null,
  lifetimeDays: 40,
  variants: { on: true, off: false },
  defaultVariant: 'off',
  offVariant: 'off',
} as const;
const STATIC: FeatureFlag = { ...base, name: 'static', environments: { production: { enabled: true, rules: [] } } };
const RULES: FeatureFlag = {
  ...base,
  name: 'new-checkout',
  environments: {
    production: {
      enabled: true,
      rules: [
        {
          name: 'staff',
          when: [{ attribute: 'email', operator: 'ENDS_WITH', values: ['@example.com'] }],
          segments: [],
          serve: 'on',
        },
        {
          name: 'big',
          when: [{ attribute: 'seats', operator: 'NUM_GTE', values: ['100'] }],
          segments: [],
          serve: 'on',
        },
        {
          name: 'new-app',
          when: [{ attribute: 'appVersion', operator: 'SEMVER_GTE', values: ['2.0.0'] }],
          segments: [],
          rollout: { percent: 25, stickiness: 'default', groupId: 'new-checkout' },
          serve: 'on',
        },
      ],
    },
  },
};
const RULES_YAML = `apiVersion: sluice.dev/v1alpha1
kind: FeatureFlag
metadata: { name: new-checkout }
spec:
  environments:
    production:
      rules:
        - { name: staff, when: [{ attribute: email, operator: ENDS_WITH, values: ["@example.com"] }], serve: "on" }
        - { name: big, when: [{ attribute: seats, operator: NUM_GTE, values: [100] }], serve: "on" }
        - { name: new-app, when: [{ attribute: appVersion, operator: SEMVER_GTE, values: ["2.0.0"] }], rollout: { percent: 25 }, serve: "on" }
`;

const quantileOf = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

/** ns per call: the best and the median of 5 rounds of 10^6 calls (the machine is shared: the best is the code, the median the machine). */
function perCall(flag: FeatureFlag): { bestNs: number; medianNs: number; exposed: number } {
  const compiled = compileFlag(flag, 'production', new Map());
  const contexts = Array.from({ length: 1024 }, (_, i) => ({
    targetingKey: `user-${i}`,
    email: `u${i}@example.org`,
    seats: String(i % 50),
    appVersion: '2.1.0',
  }));
  const now = Date.now();
  for (let i = 0; i < 200_000; i++) evaluate(compiled, contexts[i & 1023]!, now);
  const n = 1_000_000;
  const rounds: number[] = [];
  let exposed = 0;
  for (let r = 0; r < 5; r++) {
    exposed = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (evaluate(compiled, contexts[i & 1023]!, now).variant === 'on') exposed++;
    rounds.push(Number(process.hrtime.bigint() - start) / n);
  }
  return { bestNs: Math.min(...rounds), medianNs: quantileOf(rounds, 0.5), exposed: exposed / n };
}

const round = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const evaluation = { static: perCall(STATIC), threeRulesAndPercentage: perCall(RULES) };
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-flags-'));
  const server = await startServer({ dataDir: dir, port: 0, log: pino({ level: 'error' }) });
  try {
    const admin = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
    const api = async (method: string, path: string, body: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<Record<string, unknown>>;
    };
    await api('POST', '/api/apply', { spec: RULES_YAML, file: 'bench.yaml' });
    const { token } = (await api('POST', '/api/tokens', { role: 'sdk', environment: 'production', name: 'bench' })) as {
      token: string;
    };

    // (b) OFREP
    let requests = 0;
    let failures = 0;
    const until = performance.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: 32 }, async (_, w) => {
        for (let i = 0; performance.now() < until; i++) {
          const res = await fetch(`${server.url}/ofrep/v1/evaluate/flags/new-checkout`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ context: { targetingKey: `w${w}-${i}`, appVersion: '2.1.0' } }),
          });
          await res.arrayBuffer();
          requests++;
          if (res.status !== 200) failures++;
        }
      }),
    );
    const ofrep = { requestsPerSecond: Math.round(requests / SECONDS), failures, inFlight: 32, seconds: SECONDS };

    // (c) propagation to providers
    const providers = Array.from(
      { length: PROVIDERS },
      () => new SluiceProvider({ url: server.url, token, reportIntervalMs: 0, initTimeoutMs: 30_000 }),
    );
    await Promise.all(providers.map((p) => p.initialize()));
    const delays: number[] = [];
    for (let c = 1; c <= CHANGES; c++) {
      const percent = c % 2 === 0 ? 25 : 30;
      const start = performance.now();
      const seen = new Array<number>(PROVIDERS).fill(-1);
      await api('POST', '/api/flags/new-checkout/percent', { environment: 'production', percent, rule: 'new-app' });
      while (seen.includes(-1)) {
        providers.forEach((p, i) => {
          if (seen[i] === -1 && p.flagSet?.flags[0]?.environments.production?.rules[2]?.rollout?.percent === percent)
            seen[i] = performance.now() - start;
        });
        if (performance.now() - start > 10_000) throw new Error('providers did not see a change within 10 s');
        await new Promise((r) => setImmediate(r));
      }
      delays.push(...seen);
    }
    await Promise.all(providers.map((p) => p.onClose()));
    const propagation = {
      providers: PROVIDERS,
      changes: CHANGES,
      p50Ms: round(quantileOf(delays, 0.5)),
      p99Ms: round(quantileOf(delays, 0.99)),
      maxMs: round(Math.max(...delays)),
    };

    console.log(
      JSON.stringify(
        {
          benchmark: 'flags',
          at: new Date().toISOString(),
          machine: describeMachine(),
          evaluation: {
            staticNsPerCall: { best: round(evaluation.static.bestNs), median: round(evaluation.static.medianNs) },
            threeRulesAndPercentageNsPerCall: {
              best: round(evaluation.threeRulesAndPercentage.bestNs),
              median: round(evaluation.threeRulesAndPercentage.medianNs),
            },
            targetsNs: { static: 200, threeRulesAndPercentage: 1000 },
            exposedShare: round(evaluation.threeRulesAndPercentage.exposed),
          },
          ofrep,
          propagation: { ...propagation, targetP99Ms: 200 },
        },
        null,
        2,
      ),
    );
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
