/** The metrics conformance suite against the web provider, reading a real HTTP endpoint. */
import type { TestContext } from 'node:test';
import { freePort } from '../../free-port.ts';
import { httpSource, metricsConformance, type Scenario } from '../conformance.ts';
import { webMetrics } from './index.ts';

const TIMEOUT_MS = 500;

async function makeWeb(t: TestContext, scenario: Scenario) {
  const address =
    scenario.kind === 'down'
      ? `http://127.0.0.1:${await freePort()}`
      : await httpSource(t, scenario, (_req, res) => {
          if (scenario.kind === 'wrongShape')
            return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>sign in</html>');
          const value = scenario.kind === 'value' ? scenario.value : null;
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { value } }));
        });
  const provider = webMetrics.create(
    webMetrics.config.parse({ provider: 'web', address, timeout: `${TIMEOUT_MS}ms` }),
    { service: 'checkout', serviceDir: '/nonexistent', log: () => {} },
  );
  t.after(() => provider.close());
  return {
    read: () => provider.query!('/api/metric | $.data.value', 30_000),
    source: address.replace('http://', ''),
    timeoutMs: TIMEOUT_MS,
  };
}

metricsConformance('web', makeWeb);
