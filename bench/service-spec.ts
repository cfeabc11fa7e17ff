/** The Service documents the benchmark applies: the example service behind the built-in proxy, HAProxy or NGINX. */
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const SERVICE = fileURLToPath(new URL('../examples/service/server.ts', import.meta.url));

/** The rollback contract every figure depends on (README: "The contract"). */
export const CONTRACT = {
  interval: '500ms',
  window: '10s',
  minSamples: 20,
  rules: [
    { metric: 'error_rate', failIf: { above: 'baseline', by: 0.02 } },
    { metric: 'latency_p95', failIf: { above: 'baseline', by: '500ms' } },
  ],
};

export type StepSpec = { setWeight: number } | { pause: { duration?: string } };

/** The rollback cases hold the canary at 10% until promoted; nothing promotes it. */
export const HOLD_AT_10: StepSpec[] = [{ setWeight: 10 }, { pause: {} }];

export function healthySteps(pause: string): StepSpec[] {
  return [{ setWeight: 10 }, { pause: { duration: pause } }, { setWeight: 50 }, { pause: { duration: pause } }];
}

export interface SpecOptions {
  name: string;
  version: string;
  /** The example service's settings: FAIL_RATE, EXTRA_LATENCY_MS … */
  env: Record<string, string>;
  routerPort: number;
  steps: StepSpec[];
  /** HAProxy or NGINX (managed) instead of the built-in proxy, with request figures from their access log on `logPort`. */
  router?: { driver: 'haproxy' | 'nginx'; logPort: number };
}

/** The routers the rollback cases run behind (`--routers`). */
export const ROUTERS = ['builtin', 'haproxy', 'nginx'] as const;
export type RouterName = (typeof ROUTERS)[number];

export function serviceSpec(o: SpecOptions): string {
  return stringify({
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'Service',
    metadata: { name: o.name },
    spec: {
      version: o.version,
      target: {
        driver: 'process',
        command: ['node', SERVICE],
        env: o.env,
        readiness: { path: '/healthz', timeout: '10s' },
        instances: 2,
      },
      router:
        o.router === undefined
          ? { driver: 'builtin', listen: `127.0.0.1:${o.routerPort}` }
          : {
              driver: o.router.driver,
              listen: `127.0.0.1:${o.routerPort}`,
              accessLog: `127.0.0.1:${o.router.logPort}`,
            },
      ...(o.router && { metrics: { provider: 'access-log', listen: `127.0.0.1:${o.router.logPort}` } }),
      strategy: { canary: { steps: o.steps } },
      rollbackContract: CONTRACT,
    },
  });
}
