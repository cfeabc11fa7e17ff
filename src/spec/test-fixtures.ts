/**
 * Spec test fixtures: the documented example Service, and small driver config schemas shaped
 * like the real drivers' (which live in src/drivers and are not imported: spec must not depend
 * on drivers).
 */
import { z } from 'zod';
import { duration, listenAddress } from '../core/units.ts';
import type { DriverSchemas, ServiceSpec } from './service-schema.ts';

export const testDrivers: DriverSchemas = {
  targets: {
    process: z.strictObject({
      driver: z.literal('process'),
      command: z.array(z.string()).min(1),
      env: z.record(z.string(), z.string()).default({}),
      readiness: z.strictObject({ path: z.string().startsWith('/'), timeout: duration.prefault('10s') }).optional(),
      instances: z.number().int().min(1).default(1),
    }),
    static: z.strictObject({ driver: z.literal('static'), url: z.url() }),
  },
  routers: {
    builtin: z.strictObject({
      driver: z.literal('builtin'),
      listen: listenAddress,
      stickiness: z.strictObject({ header: z.string().optional(), cookie: z.string().optional() }).optional(),
    }),
  },
  metrics: {
    builtin: z.strictObject({ provider: z.literal('builtin') }),
    prometheus: z.strictObject({ provider: z.literal('prometheus'), url: z.url(), query: z.string().optional() }),
  },
  notifiers: {
    webhook: z.strictObject({ driver: z.literal('webhook'), url: z.url() }),
  },
  metricsRouters: { builtin: 'builtin' },
};

/** The documented example; tests derive broken variants from it by replacing text. */
export const exampleYaml = `apiVersion: sluice.dev/v1alpha1
kind: Service
metadata:
  name: checkout
  labels: { team: payments }
spec:
  version: "2.0.0"
  target:
    driver: process
    command: ["node", "releases/\${version}/server.js"]
    env: { LOG_LEVEL: info }
    readiness: { path: /healthz, timeout: 10s }
    instances: 2
  router:
    driver: builtin
    listen: 127.0.0.1:8080
    stickiness: { header: x-user-id }
  metrics: { provider: builtin }
  strategy:
    canary:
      steps:
        - setWeight: 1
        - pause: { duration: 10s }
        - setWeight: 10
        - pause: { duration: 30s }
        - setWeight: 50
        - pause: {}                     # waits for \`sluice promote\`
  rollbackContract:
    interval: 1s
    window: 30s
    minSamples: 50
    consecutive: 1
    failureLimit: 3
    maxInconclusive: 5m
    rules:
      - { metric: error_rate,  failIf: { above: baseline, by: 0.01 } }
      - { metric: latency_p95, failIf: { above: baseline, by: 500ms } }
      - { metric: latency_p95, failIf: { above: baseline, times: 2 } }
      - { name: hard-cap, metric: error_rate, failIf: { above: 0.2 } }
      - { metric: latency_p99, failIf: { above: 2s }, minSamples: 100, consecutive: 2 }
`;

/** The example as the schema sees it after YAML parsing (for tests that skip the YAML layer). */
export function exampleDocument() {
  return {
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'Service',
    metadata: { name: 'checkout', labels: { team: 'payments' } },
    spec: {
      version: '2.0.0',
      target: {
        driver: 'process',
        command: ['node', 'releases/${version}/server.js'],
        env: { LOG_LEVEL: 'info' },
        readiness: { path: '/healthz', timeout: '10s' },
        instances: 2,
      },
      router: { driver: 'builtin', listen: '127.0.0.1:8080', stickiness: { header: 'x-user-id' } },
      metrics: { provider: 'builtin' },
      strategy: {
        canary: {
          steps: [
            { setWeight: 1 },
            { pause: { duration: '10s' } },
            { setWeight: 10 },
            { pause: { duration: '30s' } },
            { setWeight: 50 },
            { pause: {} },
          ],
        },
      },
      rollbackContract: {
        interval: '1s',
        window: '30s',
        minSamples: 50,
        consecutive: 1,
        failureLimit: 3,
        maxInconclusive: '5m',
        rules: [
          { metric: 'error_rate', failIf: { above: 'baseline', by: 0.01 } },
          { metric: 'latency_p95', failIf: { above: 'baseline', by: '500ms' } },
          { metric: 'latency_p95', failIf: { above: 'baseline', times: 2 } },
          { name: 'hard-cap', metric: 'error_rate', failIf: { above: 0.2 } },
          { metric: 'latency_p99', failIf: { above: '2s' }, minSamples: 100, consecutive: 2 },
        ],
      },
    },
  };
}

/** What the example normalises to. */
export const exampleSpec: ServiceSpec = {
  apiVersion: 'sluice.dev/v1alpha1',
  kind: 'Service',
  metadata: { name: 'checkout', labels: { team: 'payments' } },
  spec: {
    version: '2.0.0',
    target: {
      driver: 'process',
      command: ['node', 'releases/${version}/server.js'],
      env: { LOG_LEVEL: 'info' },
      readiness: { path: '/healthz', timeout: '10s' },
      instances: 2,
    },
    router: { driver: 'builtin', listen: '127.0.0.1:8080', stickiness: { header: 'x-user-id' } },
    metrics: { provider: 'builtin' },
    notifications: [],
    strategy: {
      canary: {
        steps: [
          { kind: 'setWeight', weight: 1 },
          { kind: 'pause', durationMs: 10_000 },
          { kind: 'setWeight', weight: 10 },
          { kind: 'pause', durationMs: 30_000 },
          { kind: 'setWeight', weight: 50 },
          { kind: 'pause', durationMs: null },
        ],
      },
      plan: {
        strategy: 'canary',
        steps: [
          { kind: 'setWeight', weight: 1 },
          { kind: 'pause', durationMs: 10_000 },
          { kind: 'setWeight', weight: 10 },
          { kind: 'pause', durationMs: 30_000 },
          { kind: 'setWeight', weight: 50 },
          { kind: 'pause', durationMs: null },
        ],
        blueGreen: null,
        scaleDownDelayMs: 0,
        verifyMs: 0,
        probes: null,
      },
    },
    rollbackContract: {
      intervalMs: 1000,
      windowMs: 30_000,
      minSamples: 50,
      consecutive: 1,
      failureLimit: 3,
      maxInconclusiveMs: 300_000,
      metricsErrors: { limit: 3, action: 'pause' },
      onFail: 'rollback',
      revert: { kind: 'instant' },
      rules: [
        {
          name: 'error_rate',
          metric: 'error_rate',
          failIf: { op: 'above', reference: 'baseline', by: 0.01 },
          judge: 'sequential',
        },
        {
          name: 'latency_p95',
          metric: 'latency_p95',
          failIf: { op: 'above', reference: 'baseline', by: 500 },
          judge: 'sequential',
        },
        {
          name: 'latency_p95#2',
          metric: 'latency_p95',
          failIf: { op: 'above', reference: 'baseline', times: 2 },
          judge: 'sequential',
        },
        { name: 'hard-cap', metric: 'error_rate', failIf: { op: 'above', reference: 0.2 }, judge: 'sequential' },
        {
          name: 'latency_p99',
          metric: 'latency_p99',
          failIf: { op: 'above', reference: 2000 },
          minSamples: 100,
          consecutive: 2,
          judge: 'sequential',
        },
      ],
    },
  },
};
