/**
 * One benchmark run's world: a fresh `sluice server`, a service deployed at a healthy v1 (two
 * instances behind the built-in proxy) and warmed up, torn down afterwards whatever happened. Every server
 * still open is listed so a signal or the run-time bound can tear them down too.
 */
import { runClosedLoop } from './closed-loop.ts';
import { type RouterName, serviceSpec, type StepSpec } from './service-spec.ts';
import { freePort, SluiceServer } from '../test/support/sluice.ts';

export const SERVICE = 'bench';
export const STABLE = '1.0.0';
export const CANARY = '2.0.0';
const DEPLOY_TIMEOUT_MS = 30_000;
const PREWARM_MS = 1000;

export interface Deployment {
  server: SluiceServer;
  /** The service's traffic entry point: the built-in proxy. */
  routerUrl: string;
  /** Applies v2 of the service with these settings and steps. */
  applyCanary(env: Record<string, string>, steps: StepSpec[]): Promise<void>;
}

const open = new Set<SluiceServer>();

/** Tears down every server still open (for signals and the run-time bound). */
export async function closeAll(): Promise<void> {
  await Promise.allSettled([...open].map((s) => s.close()));
  open.clear();
}

/**
 * A check, not a workaround: Healthy is reported only once the router confirmed the table, so the
 * proxy answers from the stable version at once; a run that sees otherwise fails loudly.
 */
async function routerServes(url: string, version: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200 && res.headers.get('x-version') === version) return;
      last = `HTTP ${res.status}, x-version ${res.headers.get('x-version')}`;
    } catch (err) {
      last = (err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the router at ${url} did not serve ${version} within ${timeoutMs} ms (last: ${last})`);
}

export async function withStableV1<T>(
  steps: StepSpec[],
  run: (d: Deployment) => Promise<T>,
  router: RouterName = 'builtin',
): Promise<T> {
  const server = await SluiceServer.start();
  open.add(server);
  try {
    const routerPort = await freePort();
    const via = router === 'builtin' ? undefined : { driver: router, logPort: await freePort() };
    const spec = (version: string, env: Record<string, string>, s: StepSpec[]) =>
      serviceSpec({ name: SERVICE, version, env, routerPort, steps: s, ...(via && { router: via }) });
    await server.apply(spec(STABLE, { FAIL_RATE: '0' }, steps));
    await server.waitFor(
      (s) => s.phase === 'Healthy' && s.stableVersion === STABLE && s.instances[STABLE]?.length === 2,
      `Healthy at ${STABLE}`,
      DEPLOY_TIMEOUT_MS,
      SERVICE,
    );
    const routerUrl = `http://127.0.0.1:${routerPort}/`;
    await routerServes(routerUrl, STABLE, DEPLOY_TIMEOUT_MS);
    // A freshly started proxy and service answer an opening burst slowly (JIT, new connections);
    // a short gentle burst first keeps that out of the steady load and the baseline's window.
    await runClosedLoop({ urls: [routerUrl], concurrency: 4, warmupMs: 0, durationMs: PREWARM_MS });
    return await run({
      server,
      routerUrl,
      applyCanary: async (env, s) => void (await server.apply(spec(CANARY, env, s))),
    });
  } finally {
    open.delete(server);
    await server.close();
  }
}
