/**
 * The flag the flag-contract tests ramp: new-checkout, "on" for 50% of production, under a
 * contract on checkout that fails "on" when its error rate is above off's + 1%. `evidence` is
 * the contract's line that says where the per-variant counts come from.
 */
export function rampedFlag(evidence: 'stickiness: { header: x-user-id }' | 'evidence: sdk'): string {
  return `apiVersion: sluice.dev/v1alpha1
kind: FeatureFlag
metadata: { name: new-checkout }
spec:
  environments:
    production:
      rules:
        - name: ramp
          rollout: { percent: 50 }
          serve: "on"
  rollbackContract:
    service: checkout
    environment: production
    ${evidence}
    errorRate: { by: 0.01 }
`;
}
