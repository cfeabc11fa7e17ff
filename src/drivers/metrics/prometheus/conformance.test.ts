/**
 * The metrics conformance suite against the prometheus provider. Values, no data and an answer
 * of the wrong shape (several series) come from a real Prometheus evaluating PromQL; a status
 * and a slow answer, which Prometheus does not give on demand, from an HTTP stand-in at the address.
 */
import { after, describe, type TestContext } from 'node:test';
import { freePort } from '../../free-port.ts';
import { httpSource, metricsConformance, type Scenario } from '../conformance.ts';
import { startPrometheus, type PrometheusServer } from './fixtures/prometheus-server.ts';
import { prometheusMetrics } from './index.ts';
import { withoutServer } from '../../../../test/support/servers.ts';

const TIMEOUT_MS = 1000;
/** PromQL for each scenario Prometheus itself answers. */
const QUERIES: Partial<Record<Scenario['kind'], (s: Scenario) => string>> = {
  value: (s) => `vector(${(s as { value: number }).value})`,
  empty: () => 'vector(1) > 2',
  wrongShape: () => 'label_replace(vector(1), "side", "a", "", "") or label_replace(vector(2), "side", "b", "", "")',
};

let prometheus: Promise<PrometheusServer> | undefined;
after(async () => (await prometheus)?.stop());

async function makePrometheus(t: TestContext, scenario: Scenario) {
  const query = QUERIES[scenario.kind];
  let address: string;
  if (query !== undefined) address = (await (prometheus ??= startPrometheus([]))).url;
  else if (scenario.kind === 'down') address = `http://127.0.0.1:${await freePort()}`;
  else
    address = await httpSource(
      t,
      scenario,
      (_req, res) =>
        void res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"status":"success","data":{"resultType":"vector","result":[]}}'),
    );
  const provider = prometheusMetrics.create(
    prometheusMetrics.config.parse({ provider: 'prometheus', address, timeout: `${TIMEOUT_MS}ms` }),
    { service: 'checkout', serviceDir: '/nonexistent', log: () => {} },
  );
  t.after(() => provider.close());
  return {
    read: () => provider.query!(query?.(scenario) ?? 'up', 30_000),
    source: address.replace('http://', ''),
    timeoutMs: TIMEOUT_MS,
  };
}

describe('prometheus', { skip: withoutServer('prometheus', 'prometheus') }, () => {
  metricsConformance('prometheus', makePrometheus);
});
