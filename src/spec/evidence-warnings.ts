/** Lint's evidence check for a Service: whether each canary step can show a healthy canary before maxInconclusive. */
import { evidenceWarnings } from '../core/analysis/evidence-plan.ts';
import type { ServiceSpec } from './service-schema.ts';

/**
 * Warnings (plain sentences, prefixed with the service's name) at `rps` requests per second to the
 * service, or at the contract's `expectedRps`; none when neither is known.
 */
export function evidenceWarningsOf(spec: ServiceSpec, rps?: number): string[] {
  const traffic = rps ?? spec.spec.rollbackContract.expectedRps;
  if (traffic === undefined || !(traffic > 0)) return [];
  return evidenceWarnings(spec.spec.strategy.canary.steps, spec.spec.rollbackContract, traffic).map(
    (w) => `${spec.metadata.name}: ${w.message}`,
  );
}
