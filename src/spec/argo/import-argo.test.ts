/**
 * The importer on Argo Rollouts' own published examples (test/fixtures/argo, see its README) and on
 * small documents for the cases the examples do not hold. Every imported spec is read back by the
 * Service parser with the real drivers' schemas: what the import prints must lint.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { driverSchemas } from '../../drivers/registry.ts';
import { parseSpecs } from '../parse.ts';
import { SpecError } from '../spec-error.ts';
import { formatNote, importArgo, type ArgoImportResult } from './index.ts';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/argo');
const OPTIONS = { targetCommand: ['node', 'server.js', '${version}'], listen: '127.0.0.1:18080' };

function run(...files: string[]): ArgoImportResult & { spec: Record<string, any>; report: string } {
  const result = importArgo(
    files.map((f) => ({ file: f, text: readFileSync(join(FIXTURES, f), 'utf8') })),
    OPTIONS,
  );
  parseSpecs(result.yaml, 'imported.yaml', driverSchemas()); // throws a SpecError when it would not lint
  return {
    ...result,
    spec: result.service.spec as Record<string, any>,
    report: result.notes.map(formatNote).join('\n'),
  };
}

function inline(text: string, extra = ''): ArgoImportResult & { spec: Record<string, any>; report: string } {
  const files = [{ file: 'rollout.yaml', text }, ...(extra ? [{ file: 'templates.yaml', text: extra }] : [])];
  const result = importArgo(files, OPTIONS);
  parseSpecs(result.yaml, 'imported.yaml', driverSchemas());
  return {
    ...result,
    spec: result.service.spec as Record<string, any>,
    report: result.notes.map(formatNote).join('\n'),
  };
}

function issues(files: { file: string; text: string }[]): string {
  try {
    importArgo(files, OPTIONS);
  } catch (error) {
    assert.ok(error instanceof SpecError, String(error));
    return error.message;
  }
  assert.fail('expected a SpecError');
}

/** Each note's file:line holds the field it names (the last word of its path), so a person finds it there. */
function assertNotesPointAtTheirFields(result: ArgoImportResult): void {
  for (const note of result.notes) {
    const line = readFileSync(join(FIXTURES, note.file), 'utf8').split('\n')[note.line - 1] ?? '';
    const key = /(?:^|\.)([A-Za-z]+)(?:\[\d+\])*$/.exec(note.path)?.[1];
    if (key === undefined || /\[\d+\]$/.test(note.path)) continue;
    assert.ok(
      line.includes(key) || line.trimStart().startsWith('-'),
      `${formatNote(note)}\n  but line ${note.line} is: ${line}`,
    );
  }
}

describe('Argo Rollouts examples', () => {
  test("canary (examples/rollout-canary.yaml): weights and pauses, the image's tag as version, replicas as instances", () => {
    const r = run('rollout-canary.yaml');
    assert.equal(r.service.metadata && (r.service.metadata as { name: string }).name, 'rollout-canary');
    assert.equal(r.spec.version, 'blue');
    assert.deepEqual(r.spec.target, { driver: 'process', command: OPTIONS.targetCommand, instances: 5 });
    assert.deepEqual(r.spec.strategy.canary.steps, [
      { setWeight: 20 },
      { pause: {} },
      { setWeight: 40 },
      { pause: { duration: '40s' } },
      { setWeight: 60 },
      { pause: { duration: '20s' } },
      { setWeight: 80 },
      { pause: { duration: '20s' } },
    ]);
    // No analysis: Sluice needs a contract, and says it added one.
    assert.deepEqual(r.spec.rollbackContract.rules, [
      { metric: 'error_rate', failIf: { above: 'baseline', by: 0.01 } },
    ]);
    assert.match(
      r.report,
      /^rollout-canary\.yaml:25:3: spec\.strategy: added: no Prometheus or web metric carried over/m,
    );
    assert.match(
      r.report,
      /^rollout-canary\.yaml:21:9: spec\.template\.spec\.containers\[0\]\.image: changed: the image is not run: --target-command runs each version/m,
    );
    assert.match(r.report, /^rollout-canary\.yaml:11:3: spec\.selector: not carried over/m);
    assert.match(
      r.report,
      /^rollout-canary\.yaml:23:9: spec\.template\.spec\.containers\[0\]\.ports: not carried over/m,
    );
    assertNotesPointAtTheirFields(r);
  });

  test('blue-green (examples/rollout-bluegreen.yaml): manual promotion, preview header, its Kubernetes Services skipped', () => {
    const r = run('rollout-bluegreen.yaml');
    assert.deepEqual(r.spec.strategy, {
      blueGreen: { previewHeader: { name: 'x-sluice-preview', value: 'true' }, autoPromotion: false },
    });
    assert.match(
      r.report,
      /^rollout-bluegreen\.yaml:28:7: spec\.strategy\.blueGreen\.activeService: not carried over: a Kubernetes Service/m,
    );
    assert.match(
      r.report,
      /^rollout-bluegreen\.yaml:40:1: kind: not carried over: Service rollout-bluegreen-active \(a Kubernetes object\): skipped/m,
    );
    assert.match(r.report, /^rollout-bluegreen\.yaml:53:1: kind: not carried over: Service rollout-bluegreen-preview/m);
    assertNotesPointAtTheirFields(r);
  });

  test('analysis step (examples/rollout-analysis-step.yaml): Job providers named with their lines; the step waits for a person', () => {
    const r = run('rollout-analysis-step.yaml', 'analysis-templates.yaml', 'cluster-analysis-templates.yaml');
    assert.deepEqual(r.spec.strategy.canary.steps, [{ setWeight: 25 }, { pause: {} }]);
    assert.match(
      r.report,
      /^analysis-templates\.yaml:38:5: spec\.metrics\[0\]: not carried over: metric random-fail: a Kubernetes Job provider/m,
    );
    assert.match(
      r.report,
      /^cluster-analysis-templates\.yaml:7:7: spec\.metrics\[0\]: not carried over: metric pass: a Kubernetes Job provider/m,
    );
    assert.match(
      r.report,
      /^analysis-templates\.yaml:9:3: metadata\.name: not carried over: AnalysisTemplate pass is not referenced by the Rollout/m,
    );
    assert.match(
      r.report,
      /steps\[1\]\.analysis: changed: analysis step: no metric of it carried over; the step is imported as pause: \{\}/,
    );
    // Notes follow the order the files were given.
    assert.ok(r.report.indexOf('rollout-analysis-step.yaml') < r.report.indexOf('analysis-templates.yaml'));
    assertNotesPointAtTheirFields(r);
  });

  test('background analysis (docs/features/analysis.md): a Prometheus rule with its args, limits and interval', () => {
    const r = run('docs-background-analysis.yaml');
    assert.deepEqual(r.spec.metrics, { provider: 'prometheus', address: 'http://prometheus.example.com:9090' });
    const [rule] = r.spec.rollbackContract.rules;
    assert.equal(rule.name, 'success-rate');
    assert.match(
      rule.query,
      /destination_service=~"guestbook-svc\.default\.svc\.cluster\.local",response_code!~"5\.\*"/,
    );
    assert.doesNotMatch(rule.query, /\{\{/);
    assert.deepEqual(rule.failIf, { below: 0.95 }, 'successCondition result[0] >= 0.95 fails below 0.95');
    // failureLimit 3: Argo fails after the 4th failed measurement, in a row or not.
    assert.equal(rule.consecutive, 4);
    assert.equal(rule.failureLimit, 3);
    assert.equal(r.spec.rollbackContract.interval, '5m');
    assert.deepEqual(
      r.spec.rollbackContract.metricsErrors,
      { limit: 5, action: 'rollback' },
      'consecutiveErrorLimit defaults to 4; an errored analysis aborts',
    );
    assert.match(
      r.report,
      /^docs-background-analysis\.yaml:23:9: spec\.strategy\.canary\.analysis\.startingStep: changed/m,
    );
    assertNotesPointAtTheirFields(r);
  });

  test("background analysis (examples/rollout-background-analysis.yaml) with the examples' Job templates", () => {
    const r = run('rollout-background-analysis.yaml', 'analysis-templates.yaml');
    assert.deepEqual(r.spec.strategy.canary.steps, [{ setWeight: 25 }, { pause: {} }]);
    assert.match(
      r.report,
      /spec\.strategy\.canary\.analysis: changed: background analysis: no metric of it carried over/,
    );
    assert.match(r.report, /metric random-fail: a Kubernetes Job provider/);
  });

  test('inline analysis step (docs): a pause of one measurement, then evidence', () => {
    const r = run('docs-analysis-step.yaml');
    assert.deepEqual(r.spec.strategy.canary.steps, [
      { setWeight: 20 },
      { pause: { duration: '5m' } },
      { pause: { duration: '1s' } },
    ]);
    assert.equal(
      r.spec.metrics.address,
      'http://prometheus.example.com:9090',
      "the template's default prometheus-port is filled in",
    );
  });

  test('Prometheus template from docs/analysis/prometheus.md: timeout and a plain header carry over; a range query does not', () => {
    const r = run('docs-background-analysis.yaml', 'docs-prometheus-templates.yaml');
    assert.deepEqual(r.spec.metrics, {
      provider: 'prometheus',
      address: 'http://prometheus.example.com:9090',
      timeout: '40s',
      headers: { 'X-Scope-OrgID': 'tenant_a' },
    });
    assert.match(
      r.report,
      /^docs-prometheus-templates\.yaml:35:3: metadata\.name: not carried over: AnalysisTemplate range-query-example is not referenced/m,
    );
  });

  test('several templates (docs): both rules in one contract', () => {
    const r = run('docs-multiple-templates.yaml');
    assert.deepEqual(
      r.spec.rollbackContract.rules.map((x: { name: string; failIf: unknown }) => [x.name, x.failIf]),
      [
        ['success-rate', { below: 0.95 }],
        ['error-rate', { above: 0.95 }],
      ],
    );
    assert.deepEqual(r.spec.strategy.canary.steps, [{ setWeight: 100 }]);
    assert.match(r.report, /steps: added: no steps \(Argo goes to 100% at once\)/);
  });

  test('blue-green with pre- and post-promotion analysis (docs/features/specification.md)', () => {
    const r = run('docs-bluegreen-analysis.yaml');
    assert.deepEqual(r.spec.strategy.blueGreen, {
      previewHeader: { name: 'x-sluice-preview', value: 'true' },
      prePromotionAnalysis: true,
      autoPromotion: false,
      scaleDownDelay: '30s',
      postPromotionAnalysis: '10m',
    });
    assert.equal(r.spec.rollbackContract.rules.length, 1, 'the same template with the same args is one rule');
    for (const field of [
      'previewReplicaCount',
      'autoPromotionSeconds',
      'scaleDownDelayRevisionLimit',
      'abortScaleDownDelaySeconds',
      'antiAffinity',
      'activeMetadata',
      'previewMetadata',
    ]) {
      assert.match(r.report, new RegExp(`spec\\.strategy\\.blueGreen\\.${field}: not carried over`), field);
    }
    assertNotesPointAtTheirFields(r);
  });

  test("baseline vs canary (examples/rollout-baseline-vs-canary.yaml): Sluice's own baseline, said so", () => {
    const r = run('rollout-baseline-vs-canary.yaml');
    assert.deepEqual(r.spec.strategy.canary.steps, [{ pause: {} }]);
    assert.match(
      r.report,
      /^rollout-baseline-vs-canary\.yaml:30:11: spec\.strategy\.canary\.steps\[0\]\.experiment\.templates: changed: baseline vs canary: Sluice measures the stable version/m,
    );
  });

  test('experiment step (examples/rollout-experiment-step.yaml) with its analyses', () => {
    const r = run('rollout-experiment-step.yaml', 'analysis-templates.yaml');
    assert.deepEqual(r.spec.strategy.canary.steps, [{ setWeight: 25 }, { pause: {} }]);
    assert.match(
      r.report,
      /experiment\.analyses\[0\]: changed: experiment analysis random-fail: no metric of it carried over/,
    );
  });

  test('header route (examples/apisix/rollout.yaml): exact match carries over; setCanaryScale and the traffic router do not', () => {
    const r = run('apisix-rollout.yaml');
    assert.deepEqual(r.spec.strategy.canary.steps.slice(0, 3), [
      { setHeaderRoute: { header: 'trace', value: 'debug' } },
      { pause: {} },
      { setWeight: 20 },
    ]);
    assert.deepEqual(r.spec.strategy.canary.steps.at(-1), { pause: { duration: '15s' } });
    assert.match(
      r.report,
      /^apisix-rollout\.yaml:11:7: spec\.strategy\.canary\.trafficRouting: not carried over: a traffic router-specific route/m,
    );
    assert.match(
      r.report,
      /^apisix-rollout\.yaml:20:11: spec\.strategy\.canary\.steps\[0\]\.setCanaryScale: not carried over/m,
    );
    assertNotesPointAtTheirFields(r);
  });

  test('web metric from a Secret (examples/rollout-secret.yaml): not carried over, with why', () => {
    const r = run('rollout-secret.yaml');
    assert.match(
      r.report,
      /^rollout-secret\.yaml:56:5: spec\.metrics\[0\]: not carried over: metric webmetric: \{\{args\.secret-url\}\}: secretKeyRef \(Kubernetes Secret example-secret, key secretUrl\)/m,
    );
    assert.match(r.report, /^rollout-secret\.yaml:37:1: kind: not carried over: Secret example-secret/m);
  });

  test("web metric with fieldRef and the new version's hash, asFloat, count and limits", () => {
    const r = run('web-analysis.yaml');
    assert.deepEqual(r.spec.metrics, { provider: 'web', address: 'http://127.0.0.1:9101', timeout: '5s' });
    assert.deepEqual(r.spec.rollbackContract.rules, [
      {
        name: 'error-rate',
        query: 'http://127.0.0.1:9101/api/v1/errors?service=web-checked&hash=${version} | $.data.errorRate',
        failIf: { above: 0.02 },
        consecutive: 2,
        failureLimit: 1,
      },
    ]);
    assert.deepEqual(r.spec.rollbackContract.metricsErrors, { limit: 3, action: 'rollback' });
    // count 6 × interval 10s: the analysis step holds a minute.
    assert.deepEqual(r.spec.strategy.canary.steps, [
      { setWeight: 10 },
      { pause: { duration: '1m' } },
      { setWeight: 50 },
      { pause: { duration: '1m' } },
    ]);
    assert.deepEqual(r.spec.target, {
      driver: 'process',
      command: OPTIONS.targetCommand,
      env: { LOG_LEVEL: 'info' },
      instances: 2,
      readiness: { path: '/ready' },
    });
    assert.equal(r.spec.version, '2.0.1');
    assert.deepEqual((r.service.metadata as { labels: unknown }).labels, { team: 'payments' });
  });
});

const ROLLOUT = (strategy: string, extra = '') => `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: shop
spec:
  template:
    spec:
      containers:
      - name: app
        image: shop:1.4.0${extra}
  strategy:
${strategy}`;

const TEMPLATE = (metrics: string, args = '') => `apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: checks
spec:${args}
  metrics:
${metrics}`;

describe('what does not carry over is named, never dropped silently', () => {
  test('an unknown field anywhere is reported at its line', () => {
    const r = inline(
      ROLLOUT('    canary:\n      steps:\n      - setWeigth: 10\n      - setWeight: 20\n      surprise: 1\n'),
    );
    assert.match(
      r.report,
      /^rollout\.yaml:14:9: spec\.strategy\.canary\.steps\[0\]\.setWeigth: not carried over: setWeigth: no Sluice step of this kind/m,
    );
    assert.match(
      r.report,
      /^rollout\.yaml:16:7: spec\.strategy\.canary\.surprise: not carried over: no Sluice equivalent/m,
    );
    const t = inline(
      ROLLOUT(
        '    canary:\n      analysis: { templates: [{ templateName: checks }] }\n      steps: [{ setWeight: 10 }]\n',
      ),
      TEMPLATE(
        '  - name: errors\n    failurLimit: 2\n    failureCondition: result[0] > 0.1\n    provider:\n      prometheus: { address: "http://p:9090", query: "sum(x)" }\n',
      ),
    );
    assert.match(
      t.report,
      /^templates\.yaml:8:5: spec\.metrics\[0\]\.failurLimit: not carried over: no Sluice equivalent/m,
    );
  });

  test('conditions beyond a threshold, other providers, decreasing weights: each rule or step named with its reason', () => {
    const r = inline(
      ROLLOUT(
        '    canary:\n      analysis: { templates: [{ templateName: checks }] }\n      steps: [{ setWeight: 50 }, { setWeight: 20 }, { setMirrorRoute: { name: m, percentage: 5 } }]\n',
      ),
      TEMPLATE(
        [
          '  - name: ok-flag\n    successCondition: result == true\n    provider: { web: { url: "http://m/ok", jsonPath: "{$.ok}" } }',
          '  - name: dd\n    successCondition: result < 1\n    provider: { datadog: { query: "avg:errors" } }',
          '  - name: posted\n    successCondition: result < 1\n    provider: { web: { url: "http://m/q", method: POST, body: "{}" } }',
          '  - name: filtered\n    successCondition: result < 1\n    provider: { web: { url: "http://m/q", jsonPath: "{$.items[?(@.ok)].value}" } }',
          '  - name: no-condition\n    provider: { prometheus: { address: "http://p:9090", query: "up" } }',
        ].join('\n') + '\n',
      ),
    );
    assert.match(
      r.report,
      /metric ok-flag: successCondition "result == true" is not one comparison of result with a number/,
    );
    assert.match(r.report, /metric dd: Datadog: write it as a web query rule/);
    assert.match(r.report, /metric posted: method POST: Sluice's web provider sends GET only/);
    assert.match(r.report, /metric filtered: jsonPath \$\.items\[\?\(@\.ok\)\]\.value is beyond Sluice's selectors/);
    assert.match(r.report, /metric no-condition: no successCondition or failureCondition/);
    assert.match(r.report, /steps\[1\]\.setWeight: not carried over: setWeight 20 after 50: Sluice never lowers/);
    assert.match(
      r.report,
      /steps\[2\]\.setMirrorRoute: not carried over: setMirrorRoute: Sluice does not mirror traffic/,
    );
    assert.deepEqual(
      r.spec.rollbackContract.rules[0].metric,
      'error_rate',
      'nothing carried over: the default rule, reported as added',
    );
  });

  test("args: a missing value, Stable's hash and a secret refuse the metric; Latest is ${version}", () => {
    const r = inline(
      ROLLOUT(
        '    canary:\n      analysis:\n        templates: [{ templateName: checks }]\n        args:\n        - { name: latest, valueFrom: { podTemplateHashValue: Latest } }\n        - { name: stable, valueFrom: { podTemplateHashValue: Stable } }\n      steps: [{ setWeight: 10 }]\n',
      ),
      TEMPLATE(
        [
          '  - name: canary-errors\n    failureCondition: result > 5\n    provider: { prometheus: { address: "http://p:9090", query: "sum(errors{hash=\\"{{args.latest}}\\"})" } }',
          '  - name: compare\n    failureCondition: result > 5\n    provider: { prometheus: { address: "http://p:9090", query: "sum(errors{hash=\\"{{args.stable}}\\"})" } }',
          '  - name: unset\n    failureCondition: result > 5\n    provider: { prometheus: { address: "http://p:9090", query: "sum(errors{svc=\\"{{args.service}}\\"})" } }',
          '  - name: secret\n    failureCondition: result > 5\n    provider: { prometheus: { address: "http://p:9090", query: "sum(errors{t=\\"{{args.token}}\\"})" } }',
        ].join('\n') + '\n',
        '\n  args:\n  - name: service\n  - name: token\n    valueFrom: { secretKeyRef: { name: s, key: k } }',
      ),
    );
    assert.deepEqual(
      r.spec.rollbackContract.rules.map((x: { query: string }) => x.query),
      ['sum(errors{hash="${version}"})'],
    );
    assert.match(
      r.report,
      /metric compare: \{\{args\.stable\}\}: podTemplateHashValue: Stable names the stable version/,
    );
    assert.match(r.report, /metric unset: \{\{args\.service\}\} has no value: pass it in the Rollout's args/);
    assert.match(r.report, /metric secret: \{\{args\.token\}\}: secretKeyRef \(Kubernetes Secret s, key k\)/);
  });

  test("an experiment's analysis reads the canary template's hash as ${version}", () => {
    const r = inline(
      ROLLOUT(
        '    canary:\n      steps:\n      - experiment:\n          duration: 30m\n          templates: [{ name: baseline, specRef: stable }, { name: canary, specRef: canary, weight: 10 }]\n          analyses:\n          - name: cmp\n            templateName: checks\n            args:\n            - { name: hash, value: "{{templates.canary.podTemplateHash}}" }\n',
      ),
      TEMPLATE(
        '  - name: p95\n    failureCondition: result > 0.3\n    provider: { prometheus: { address: "http://p:9090", query: "q{h=\\"{{args.hash}}\\"}" } }\n',
        '\n  args: [{ name: hash }]',
      ),
    );
    assert.deepEqual(r.spec.strategy.canary.steps, [{ pause: { duration: '30m' } }]);
    assert.equal(r.spec.rollbackContract.rules[0].query, 'q{h="${version}"}');
    assert.match(
      r.report,
      /templates\[1\]\.weight: not carried over: weight: Sluice sends no traffic share to an experiment's own instances/,
    );
  });

  test("two Prometheus servers: one provider per Sluice service, the other's rules named", () => {
    const r = inline(
      ROLLOUT(
        '    canary:\n      analysis: { templates: [{ templateName: checks }] }\n      steps: [{ setWeight: 10 }]\n',
      ),
      TEMPLATE(
        [
          '  - name: a\n    failureCondition: result > 1\n    provider: { prometheus: { address: "http://one:9090", query: "a" } }',
          '  - name: b\n    failureCondition: result > 1\n    provider: { prometheus: { address: "http://one:9090", query: "b" } }',
          '  - name: c\n    failureCondition: result > 1\n    provider: { prometheus: { address: "http://two:9090", query: "c" } }',
        ].join('\n') + '\n',
      ),
    );
    assert.deepEqual(
      r.spec.rollbackContract.rules.map((x: { name: string }) => x.name),
      ['a', 'b'],
    );
    assert.match(
      r.report,
      /spec\.metrics\[2\]: not carried over: metric c needs prometheus http:\/\/two:9090; a Sluice service has one metrics provider, here prometheus http:\/\/one:9090/,
    );
  });

  test('limits: the smallest consecutiveErrorLimit, inconclusiveLimit as maxInconclusive; both conditions and boundaries noted', () => {
    const r = inline(
      ROLLOUT(
        '    canary:\n      analysis: { templates: [{ templateName: checks }, { templateName: shared, clusterScope: true }] }\n      steps: [{ setWeight: 10 }]\n',
      ),
      TEMPLATE(
        [
          '  - name: a\n    interval: 30s\n    consecutiveErrorLimit: 2\n    inconclusiveLimit: 3\n    successCondition: result[0] >= 0.90\n    failureCondition: result[0] < 0.50\n    provider: { prometheus: { address: "http://p:9090", query: "a" } }',
          '  - name: b\n    interval: 1m\n    failureCondition: result >= 10\n    provider: { prometheus: { address: "http://p:9090", query: "b" } }',
          '  - name: skipped\n    failureCondition: result > 1\n    provider: { prometheus: { address: "http://p:9090", query: "c" } }',
        ].join('\n') + '\n  dryRun: [{ metricName: skip.* }]\n',
      ) +
        '---\n' +
        TEMPLATE(
          '  - name: d\n    failureCondition: result > 1\n    provider: { prometheus: { address: "http://p:9090", query: "d" } }\n',
        )
          .replace('kind: AnalysisTemplate', 'kind: ClusterAnalysisTemplate')
          .replace('name: checks', 'name: shared'),
    );
    const contract = r.spec.rollbackContract;
    assert.deepEqual(
      contract.rules.map((x: { name: string; failIf: unknown }) => [x.name, x.failIf]),
      [
        ['a', { below: 0.5 }],
        ['b', { above: 10 }],
        ['d', { above: 1 }],
      ],
    );
    assert.equal(contract.interval, '30s');
    assert.deepEqual(contract.metricsErrors, { limit: 3, action: 'rollback' });
    assert.equal(contract.maxInconclusive, '2m', '(3 + 1) × 30s');
    assert.match(
      r.report,
      /spec\.metrics\[0\]\.successCondition: changed: Sluice fails the rule on the failureCondition and passes it otherwise; Argo's Inconclusive, between "result\[0\] >= 0\.90" and "result\[0\] < 0\.50", is a Pass in Sluice/,
    );
    assert.match(
      r.report,
      /spec\.metrics\[1\]\.failureCondition: changed: a value of exactly 10 fails in Argo \(>=\) and passes in Sluice/,
    );
    assert.match(
      r.report,
      /spec\.metrics\[1\]\.interval: changed: evaluated every 30s \(the contract's interval, the shortest of the imported metrics\), not every 1m/,
    );
    assert.match(r.report, /spec\.metrics\[2\]: not carried over: metric skipped runs in dry-run mode/);
    assert.match(
      r.report,
      /spec\.metrics\[0\]\.inconclusiveLimit: changed: Sluice pauses a step that has no Pass for maxInconclusive: 2m/,
    );
  });

  test('web metrics on two hosts share one web provider; headers go to its address only', () => {
    const r = inline(
      ROLLOUT(
        '    canary:\n      analysis: { templates: [{ templateName: checks }] }\n      steps: [{ setWeight: 10 }]\n',
      ),
      TEMPLATE(
        [
          '  - name: a\n    failureCondition: result > 1\n    provider: { web: { url: "http://one:8080/a", jsonPath: "{$.v}", headers: [{ key: X-Tenant, value: t1 }] } }',
          '  - name: b\n    failureCondition: result > 1\n    provider: { web: { url: "http://one:8080/b", jsonPath: "{$.v}" } }',
          '  - name: c\n    failureCondition: result > 1\n    provider: { web: { url: "https://two/c?x=1", jsonPath: "{$.v}", headers: [{ key: X-Tenant, value: t2 }, { key: Authorization, value: Bearer x }] } }',
        ].join('\n') + '\n',
      ),
    );
    assert.deepEqual(r.spec.metrics, { provider: 'web', address: 'http://one:8080', headers: { 'X-Tenant': 't1' } });
    assert.deepEqual(
      r.spec.rollbackContract.rules.map((x: { query: string }) => x.query),
      ['http://one:8080/a | $.v', 'http://one:8080/b | $.v', 'https://two/c?x=1 | $.v'],
    );
    assert.match(
      r.report,
      /spec\.metrics\[2\]\.provider\.web\.headers: not carried over: Sluice sends the provider's headers only to its address \(http:\/\/one:8080\), not to https:\/\/two/,
    );
    assert.match(
      r.report,
      /spec\.metrics\[2\]\.provider\.web\.headers\[1\]: not carried over: header Authorization carries a credential/,
    );
  });

  test('${ in Argo text stays literal in Sluice', () => {
    const r = inline(
      ROLLOUT(
        '    canary:\n      analysis: { templates: [{ templateName: checks }] }\n      steps: [{ setWeight: 10 }]\n',
      ),
      TEMPLATE(
        '  - name: a\n    failureCondition: result > 1\n    provider: { prometheus: { address: "http://p:9090", query: "x{l=\\"${HOME}\\"}" } }\n',
      ),
    );
    assert.equal(r.spec.rollbackContract.rules[0].query, 'x{l="$${HOME}"}');
  });
});

describe('files that cannot be imported', () => {
  test('a kind the importer does not read: named, with the kinds it reads', () => {
    const message = issues([
      { file: 'exp.yaml', text: 'apiVersion: argoproj.io/v1alpha1\nkind: Experiment\nmetadata: { name: e }\n' },
    ]);
    assert.equal(
      message,
      'exp.yaml:2:1: kind: kind Experiment (argoproj.io/v1alpha1) is not read by sluice import argo; it reads Rollout, AnalysisTemplate, ClusterAnalysisTemplate (apiVersion argoproj.io/v1alpha1)',
    );
    assert.match(
      issues([{ file: 's.yaml', text: 'apiVersion: sluice.dev/v1alpha1\nkind: Service\nmetadata: { name: s }\n' }]),
      /s\.yaml:2:1: kind: kind Service \(sluice\.dev\/v1alpha1\) is not read/,
    );
    assert.match(issues([{ file: 'x.yaml', text: '- a\n- b\n' }]), /x\.yaml:1:1: expected an Argo Rollouts document/);
  });

  test('no Rollout, two Rollouts, a template not given, YAML errors, no version', () => {
    assert.match(
      issues([{ file: 't.yaml', text: TEMPLATE('  - name: a\n    provider: {}\n') }]),
      /no Rollout in the files given/,
    );
    const two = ROLLOUT('    canary: { steps: [{ setWeight: 5 }] }\n');
    assert.match(
      issues([{ file: 'r.yaml', text: `${two}---\n${two.replace('name: shop', 'name: cart')}` }]),
      /r\.yaml:\d+:1: kind: one Rollout per import; found shop \(r\.yaml:2\), cart \(r\.yaml:\d+\)/,
    );
    assert.match(
      issues([
        {
          file: 'r.yaml',
          text: ROLLOUT(
            '    canary:\n      analysis: { templates: [{ templateName: missing }] }\n      steps: [{ setWeight: 5 }]\n',
          ),
        },
      ]),
      /r\.yaml:13:33: spec\.strategy\.canary\.analysis\.templates\[0\]\.templateName: AnalysisTemplate missing is not in the files given; pass it with -f \(templates read: none\)/,
    );
    assert.match(issues([{ file: 'bad.yaml', text: 'kind: Rollout\nspec: [\n' }]), /bad\.yaml:\d+:\d+: YAML: /);
    assert.match(
      issues([
        { file: 'r.yaml', text: ROLLOUT('    canary: { steps: [{ setWeight: 5 }] }\n').replace('shop:1.4.0', 'shop') },
      ]),
      /image shop has no tag to take the version from: give --version/,
    );
  });
});
