import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readDocuments } from './documents.ts';
import { SpecError } from './spec-error.ts';
import { testDrivers } from './test-fixtures.ts';

const FILE = 'flags/new-checkout.yaml';
const GOOD = `apiVersion: sluice.dev/v1alpha1
kind: FeatureFlag
metadata:
  name: new-checkout
spec:
  type: release
  owner: team-web
  description: One-page checkout
  variants: { "on": true, "off": false }
  defaultVariant: "off"
  environments:
    production:
      enabled: true
      rules:
        - name: staff
          when: [{ attribute: email, operator: ENDS_WITH, values: ["@example.com"] }]
          serve: "on"
        - name: ramp
          rollout: { percent: 25, stickiness: default, groupId: new-checkout }
          serve: "on"
`;

/** The problems of `text`, as "line: message". */
function refusals(text: string): string[] {
  try {
    readDocuments(text, FILE, testDrivers);
  } catch (err) {
    assert.ok(err instanceof SpecError, String(err));
    return err.issues.map((i) => `${i.line}: ${i.path}: ${i.message}`);
  }
  return [];
}

test("the issue's FeatureFlag reads into the model: variants, default, rules in order, the rollout's group, lifetime by type", () => {
  const [doc] = readDocuments(GOOD, FILE, testDrivers);
  assert.equal(doc?.kind, 'FeatureFlag');
  if (doc?.kind !== 'FeatureFlag') return;
  assert.deepEqual(doc.flag.variants, { on: true, off: false });
  assert.equal(doc.flag.offVariant, 'off');
  assert.equal(doc.flag.lifetimeDays, 40);
  assert.deepEqual(
    doc.flag.environments.production?.rules.map((r) => r.name),
    ['staff', 'ramp'],
  );
  assert.deepEqual(doc.flag.environments.production?.rules[1]?.rollout, {
    percent: 25,
    stickiness: 'default',
    groupId: 'new-checkout',
  });
  assert.equal(doc.flag.environments.production?.rules[0]?.when[0]?.operator, 'ENDS_WITH');
});

test('bad input is refused with the line and what is valid', () => {
  const cases: [string, string, RegExp][] = [
    [
      'operator: ENDS_WITH',
      'operator: ENDSWITH',
      /^16: .*operator.*unknown operator "ENDSWITH" \(did you mean "ENDS_WITH"\?\); valid: EQUALS, IN/,
    ],
    [
      'variants: { "on": true, "off": false }',
      'variants: { "on": true, "off": "no" }',
      /^9: spec\.variants: variants are all of one type; these mix boolean \(on\) and string \(off\)/,
    ],
    [
      'defaultVariant: "off"',
      'defaultVariant: "of"',
      /^10: spec\.defaultVariant: defaultVariant "of" is not a variant; valid: on, off/,
    ],
    ['percent: 25', 'percent: 125', /^19: .*percent: a percent is 0 to 100/],
    ['percent: 25', 'percent: -1', /^19: .*percent: a percent is 0 to 100/],
    [
      'rollout: { percent: 25, stickiness: default, groupId: new-checkout }',
      'ramp: { from: 0, to: 100, start: "2026-06-02T00:00:00Z", end: "2026-06-01T00:00:00Z" }',
      /^19: .*ramp.end: the ramp ends \(2026-06-01T00:00:00.000Z\) before it starts/,
    ],
    [
      'values: ["@example.com"] }',
      'values: ["@example.com"] }, { attribute: seats, operator: NUM_GT, values: [10] }, { attribute: seats, operator: NUM_LT, values: [5] }',
      /^16: .*when: rule "staff" can never match: seats NUM_GT 10 and NUM_LT 5 hold for no value/,
    ],
    [
      'serve: "on"\n        - name: ramp',
      'serve: "maybe"\n        - name: ramp',
      /^17: .*serve: serves "maybe", which is not a variant; valid: on, off/,
    ],
    [
      'operator: ENDS_WITH, values: ["@example.com"]',
      'operator: REGEX, values: ["(unclosed"]',
      /^16: .*when\[0\]: REGEX "\(unclosed" is not a valid regular expression/,
    ],
    [
      'operator: ENDS_WITH, values: ["@example.com"]',
      'operator: SEMVER_GT, values: ["v1.2"]',
      /is not one \(write e\.g\. 1\.2\.3/,
    ],
    [
      'type: release',
      'type: temporary',
      /^6: spec\.type: type is one of release, experiment, operational, killSwitch, permission/,
    ],
  ];
  for (const [from, to, expected] of cases) {
    assert.ok(GOOD.includes(from), from);
    const got = refusals(GOOD.replace(from, to));
    assert.ok(
      got.some((g) => expected.test(g)),
      `${to}\n→ ${got.join('\n  ') || 'accepted'}`,
    );
  }
});

test('a rule after one that serves everyone can never match, and is refused', () => {
  const text = GOOD.replace(
    '        - name: staff',
    '        - name: everyone\n          serve: "on"\n        - name: staff',
  );
  assert.ok(
    refusals(text).some((r) => /^17: .*rule "staff" can never match: an earlier rule serves everyone/.test(r)),
    refusals(text).join('\n'),
  );
});

test('a Segment reads, and needs a condition', () => {
  const seg =
    'apiVersion: sluice.dev/v1alpha1\nkind: Segment\nmetadata: { name: beta-testers }\nspec:\n  conditions: [{ attribute: plan, operator: IN, values: [beta, early] }]\n';
  const [doc] = readDocuments(seg, FILE, testDrivers);
  assert.deepEqual(doc?.kind === 'Segment' && doc.segment.conditions, [
    { attribute: 'plan', operator: 'IN', values: ['beta', 'early'] },
  ]);
  assert.ok(
    refusals(seg.replace(/conditions: .*/, 'conditions: []')).some((r) =>
      /a segment needs at least one condition/.test(r),
    ),
  );
});

const CONTRACT = `  rollbackContract:
    service: checkout
    environment: production
    stickiness: { header: x-user-id }
`;

test('a contract reads latency rules as a service contract writes them, and onFail (default off)', () => {
  const text = `${GOOD}${CONTRACT}    latency:
      - { metric: latency_p99, failIf: { above: baseline, by: 50ms } }
      - { name: slow, metric: latency_p95, failIf: { above: 800ms } }
    onFail: pause
`;
  const [doc] = readDocuments(text, FILE, testDrivers);
  assert.ok(doc?.kind === 'FeatureFlag');
  assert.deepEqual(doc.flag.rollbackContract?.latency, [
    { name: 'latency_p99', metric: 'latency_p99', failIf: { op: 'above', reference: 'baseline', by: 50 } },
    { name: 'slow', metric: 'latency_p95', failIf: { op: 'above', reference: 800 } },
  ]);
  assert.equal(doc.flag.rollbackContract?.onFail, 'pause');
  const [plain] = readDocuments(`${GOOD}${CONTRACT}`, FILE, testDrivers);
  assert.ok(plain?.kind === 'FeatureFlag');
  assert.equal(plain.flag.rollbackContract?.onFail, 'off');
  assert.equal(plain.flag.rollbackContract?.latency, undefined);
});

test('bad latency rules and onFail are refused with the line and what is valid', () => {
  const bad = `${GOOD}${CONTRACT}    latency:
      - { metric: latency_p98, failIf: { above: baseline, by: 50ms } }
      - { metric: error_rate, failIf: { above: 0.1 } }
      - { metric: latency_p99, failIf: { above: baseline, by: fast } }
    onFail: hold
`;
  assert.deepEqual(refusals(bad), [
    '26: spec.rollbackContract.latency[0].metric: unknown metric "latency_p98"; valid metrics: error_rate, success_rate, latency_p50, latency_p90, latency_p95, latency_p99, latency_mean, request_rate, instance_crashes',
    '28: spec.rollbackContract.latency[2].failIf.by: "fast" is not valid for latency_p99: write a duration such as 500ms or 2s, or a number of ms',
    '29: spec.rollbackContract.onFail: onFail is off (turn the flag off) or pause (freeze its exposure), not "hold"',
  ]);
  const errorRate = `${GOOD}${CONTRACT}    latency:
      - { metric: latency_p95, failIf: { above: baseline, by: 50ms } }
      - { metric: error_rate, failIf: { above: 0.1 } }
`;
  assert.deepEqual(refusals(errorRate), [
    "27: spec.rollbackContract.latency[1].metric: a flag's latency rule watches latency_p50, latency_p90, latency_p95, latency_p99, not error_rate (errorRate is the contract's error-rate rule)",
  ]);
  const oneVariant = `${GOOD.replace('variants: { "on": true, "off": false }', 'variants: { "off": false }').replace(/serve: "on"/g, 'serve: "off"')}${CONTRACT}    latency: [{ metric: latency_p95, failIf: { above: baseline, by: 50ms } }]
`;
  assert.deepEqual(refusals(oneVariant), [
    '25: spec.rollbackContract.latency: a latency rule compares a served variant with the off variant "off", and the flag has no other variant; add one to variants',
  ]);
});

test('evidence: sdk judges the application’s reports and takes no stickiness; the proxy needs one', () => {
  const sdk = `${GOOD}  rollbackContract:
    service: checkout
    environment: production
    evidence: sdk
`;
  const [doc] = readDocuments(sdk, FILE, testDrivers);
  assert.ok(doc?.kind === 'FeatureFlag');
  assert.equal(doc.flag.rollbackContract?.evidence, 'sdk');
  const [proxy] = readDocuments(`${GOOD}${CONTRACT}`, FILE, testDrivers);
  assert.ok(proxy?.kind === 'FeatureFlag');
  assert.equal(proxy.flag.rollbackContract?.evidence, undefined, 'proxy, the default, is not written out');
  assert.deepEqual(refusals(`${sdk}    stickiness: { header: x-user-id }\n`), [
    "25: spec.rollbackContract.stickiness: with evidence: sdk the application evaluates the flag and its targetingKey picks each user's bucket; remove stickiness (the built-in proxy's)",
  ]);
  assert.deepEqual(refusals(sdk.replace('evidence: sdk', 'evidence: proxy')), [
    '22: spec.rollbackContract.stickiness: the built-in proxy evaluates the flag per request from a header or cookie: add stickiness: { header: x-user-id } or { cookie: uid }, or evidence: sdk when the application evaluates the flag and reports outcomes',
  ]);
  assert.deepEqual(refusals(sdk.replace('evidence: sdk', 'evidence: app')), [
    `24: spec.rollbackContract.evidence: evidence is proxy (the service's built-in proxy evaluates the flag per request) or sdk (the application evaluates it and reports outcomes), not "app"`,
  ]);
});
