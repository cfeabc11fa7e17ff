import type { Risk, RiskLevel } from './types.ts';

/** Labels (keys or values) that make a release high risk when its risk is not declared. */
export const HIGH_RISK_LABELS = ['migration', 'auth', 'payments'] as const;

/**
 * A release's risk: declared (`spec.risk`), else high when a label key or value names a
 * high-risk area, else low. `labels` are the service's metadata.labels.
 */
export function riskOf(declared: RiskLevel | undefined, labels: Record<string, string>): Risk {
  if (declared !== undefined) return { level: declared, reason: 'declared in spec.risk' };
  const hits = Object.entries(labels)
    .flatMap(([k, v]) => [k, v])
    .filter((w) => (HIGH_RISK_LABELS as readonly string[]).includes(w.toLowerCase()));
  if (hits.length > 0) return { level: 'high', reason: `derived from labels: ${[...new Set(hits)].join(', ')}` };
  return { level: 'low', reason: `no spec.risk and no high-risk label (${HIGH_RISK_LABELS.join(', ')})` };
}
