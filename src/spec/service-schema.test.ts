import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { serviceSchema, specErrorMap, type ServiceSpec } from './service-schema.ts';
import { exampleDocument, exampleSpec, testDrivers } from './test-fixtures.ts';

const schema = serviceSchema(testDrivers);

type Doc = ReturnType<typeof exampleDocument>;

/** Parses the example after `edit`; returns the spec or the issues as `path: message` lines. */
function check(edit: (doc: Doc) => void = () => {}): { spec?: ServiceSpec; issues: string[] } {
  const doc = exampleDocument();
  edit(doc);
  const result = schema.safeParse(doc, { error: specErrorMap });
  if (result.success) return { spec: result.data, issues: [] };
  return { issues: result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
}

function issuesOf(edit: (doc: Doc) => void): string[] {
  const { issues } = check(edit);
  assert.notEqual(issues.length, 0, 'expected the document to be rejected');
  return issues;
}

/** The rules part of the example, replaced. */
const withRules = (rules: unknown[]) => (doc: Doc) => {
  doc.spec.rollbackContract.rules = rules as never;
};

describe('serviceSchema', () => {
  it('normalises the documented example', () => {
    assert.deepEqual(check().spec, exampleSpec);
  });

  it('fills the defaults: labels, metrics provider and contract settings', () => {
    const { spec } = check((doc) => {
      delete (doc.metadata as Partial<Doc['metadata']>).labels;
      delete (doc.spec as Partial<Doc['spec']>).metrics;
      doc.spec.rollbackContract = { rules: [{ metric: 'error_rate', failIf: { above: 0.1 } }] } as never;
    });
    assert.deepEqual(spec?.metadata.labels, {});
    assert.deepEqual(spec?.spec.metrics, { provider: 'builtin' });
    assert.deepEqual(spec?.spec.rollbackContract, {
      intervalMs: 1000,
      windowMs: 30_000,
      minSamples: 50,
      consecutive: 1,
      failureLimit: null,
      maxInconclusiveMs: 600_000,
      metricsErrors: { limit: 3, action: 'pause' },
      onFail: 'rollback',
      revert: { kind: 'instant' },
      rules: [
        { name: 'error_rate', metric: 'error_rate', failIf: { op: 'above', reference: 0.1 }, judge: 'sequential' },
      ],
    });
  });

  it('requires a rollback contract, with at least one rule', () => {
    const missing = issuesOf((doc) => delete (doc.spec as Partial<Doc['spec']>).rollbackContract);
    assert.deepEqual(missing, [
      'spec.rollbackContract: is required: a release needs explicit rollback thresholds (add rollbackContract with rules)',
    ]);
    assert.deepEqual(issuesOf(withRules([])), [
      'spec.rollbackContract.rules: rules must not be empty: a release needs at least one rule',
    ]);
  });

  it('names unknown keys and the likely intended one', () => {
    const issues = issuesOf((doc) => {
      const spec = doc.spec as Record<string, unknown>;
      spec.rollbackcontract = spec.rollbackContract;
      delete spec.rollbackContract;
    });
    // One message, at the key itself: "rollbackContract is required" would say the same again.
    assert.deepEqual(issues, [
      'spec.rollbackcontract: unknown field "rollbackcontract" (did you mean "rollbackContract"?); valid fields: version, target, router, metrics, notifications, strategy, rollbackContract, environments, risk, owners, dependsOn, migrations, flags',
    ]);
  });

  it('reports a misspelt step field once, without a second "a step has exactly one of" message', () => {
    const issues = issuesOf((doc) => {
      doc.spec.strategy.canary.steps = [{ setWeight: 10 }, { setWeigth: 50 }] as never;
    });
    assert.deepEqual(issues, [
      'spec.strategy.canary.steps.1.setWeigth: unknown field "setWeigth" (did you mean "setWeight"?); valid fields: setWeight, pause, setHeaderRoute, smoke, setFlag',
    ]);
  });

  it('checks the rest of a config whose driver name is misspelt as the driver most likely meant', () => {
    const issues = issuesOf((doc) => {
      doc.spec.target.driver = 'proces';
      doc.spec.target.readiness.timeout = 10 as never;
    });
    assert.deepEqual(issues, [
      'spec.target.driver: unknown target driver "proces" (did you mean "process"?); valid: process, static; the other fields here were checked as process',
      'spec.target.readiness.timeout: expected a duration such as 500ms, 30s, 5m or 1h; got 10 (checked as driver: process)',
    ]);
    const router = issuesOf((doc) => {
      doc.spec.router = { driver: 'bultin', listen: 8080 } as never;
    });
    assert.deepEqual(router, [
      'spec.router.driver: unknown router driver "bultin" (did you mean "builtin"?); valid: builtin; the other fields here were checked as builtin',
      'spec.router.listen: expected a string: host:port, e.g. 127.0.0.1:8080; got 8080 (checked as driver: builtin)',
    ]);
  });

  describe('steps', () => {
    const withSteps = (steps: unknown[]) => (doc: Doc) => {
      doc.spec.strategy.canary.steps = steps as never;
    };

    it('must be non-empty and each hold exactly one of setWeight or pause', () => {
      assert.match(issuesOf(withSteps([]))[0]!, /^spec\.strategy\.canary\.steps: steps must not be empty/);
      const both = issuesOf(withSteps([{ setWeight: 5, pause: {} }]));
      assert.deepEqual(both, [
        'spec.strategy.canary.steps.0: a step has exactly one of setWeight: <0..100> or pause: {…}',
      ]);
      assert.match(
        issuesOf(withSteps([{ setWeight: 101 }]))[0]!,
        /^spec\.strategy\.canary\.steps\.0\.setWeight: must be from 0 to 100, got 101$/,
      );
    });

    it('rejects decreasing weights, naming both steps', () => {
      const issues = issuesOf(withSteps([{ setWeight: 10 }, { pause: {} }, { setWeight: 50 }, { setWeight: 20 }]));
      assert.deepEqual(issues, [
        'spec.strategy.canary.steps.3.setWeight: setWeight 20 is below 50 at steps[2]: weights must not decrease',
      ]);
    });

    it('reports decreasing weights together with other broken steps', () => {
      const issues = issuesOf(withSteps([{ setWeight: 50 }, { pause: { duration: 'soon' } }, { setWeight: 5 }]));
      assert.equal(issues.length, 2, issues.join('\n'));
    });
  });

  describe('rules', () => {
    const conditionOf = (rule: unknown) =>
      (check(withRules([rule])).spec?.spec.rollbackContract.rules[0] as { failIf?: unknown } | undefined)?.failIf;
    const issueOf = (rule: unknown) => issuesOf(withRules([rule]));

    it('reads latency thresholds as ms, from durations or plain numbers', () => {
      assert.deepEqual(conditionOf({ metric: 'latency_p95', failIf: { above: '1.5s' } }), {
        op: 'above',
        reference: 1500,
      });
      assert.deepEqual(conditionOf({ metric: 'latency_p95', failIf: { above: 250 } }), { op: 'above', reference: 250 });
      assert.deepEqual(conditionOf({ metric: 'latency_mean', failIf: { below: 'baseline', by: '20ms', times: 0.5 } }), {
        op: 'below',
        reference: 'baseline',
        by: 20,
        times: 0.5,
      });
    });

    it('keeps error_rate a fraction 0..1 and rejects durations for it', () => {
      assert.deepEqual(conditionOf({ metric: 'error_rate', failIf: { above: 0.05 } }), {
        op: 'above',
        reference: 0.05,
      });
      assert.match(
        issueOf({ metric: 'error_rate', failIf: { above: 5 } })[0]!,
        /failIf\.above: error_rate is a fraction 0\.\.1/,
      );
      assert.match(
        issueOf({ metric: 'error_rate', failIf: { above: '1s' } })[0]!,
        /failIf\.above: "1s" is not valid for error_rate/,
      );
    });

    it('rejects a baseline comparison without a threshold', () => {
      assert.deepEqual(issueOf({ metric: 'error_rate', failIf: { above: 'baseline' } }), [
        'spec.rollbackContract.rules.0.failIf.above: baseline needs a threshold: add by: … (a margin, e.g. by: 0.01) or times: … (a factor, e.g. times: 2)',
      ]);
    });

    it('takes exactly one of above and below, and by/times only with baseline', () => {
      assert.match(issueOf({ metric: 'error_rate', failIf: {} })[0]!, /failIf: failIf needs above: … or below: …/);
      assert.match(issueOf({ metric: 'error_rate', failIf: { above: 0.1, below: 0.01 } })[0]!, /not both/);
      assert.match(
        issueOf({ metric: 'error_rate', failIf: { above: 0.1, by: 0.01 } })[0]!,
        /failIf\.by: by is only for comparisons with the baseline/,
      );
      assert.match(
        issueOf({ metric: 'error_rate', failIf: { above: 'baseline', times: 0 } })[0]!,
        /failIf\.times: must be more than 0, got 0$/,
      );
    });

    it('lists the valid metrics for an unknown one', () => {
      assert.deepEqual(issueOf({ metric: 'errors', failIf: { above: 0.1 } }), [
        'spec.rollbackContract.rules.0.metric: unknown metric "errors"; valid metrics: error_rate, success_rate, latency_p50, latency_p90, latency_p95, latency_p99, latency_mean, request_rate, instance_crashes',
      ]);
    });

    it('reads the status classes a rate rule counts, and refuses them elsewhere', () => {
      const { spec, issues } = check(
        withRules([
          { metric: 'error_rate', errors: ['5xx', 404, 'connect', '5XX'], failIf: { above: 'baseline', by: 0.02 } },
          { metric: 'success_rate', failIf: { below: 0.99 } },
        ]),
      );
      assert.deepEqual(issues, []);
      const [errors, success] = spec?.spec.rollbackContract.rules ?? [];
      assert.deepEqual((errors as { errors?: string[] }).errors, ['5xx', '404', 'connect']);
      assert.equal((success as { errors?: string[] }).errors, undefined);
      assert.deepEqual(issueOf({ metric: 'error_rate', errors: ['6xx'], failIf: { above: 0.1 } }), [
        'spec.rollbackContract.rules.0.errors.0: "6xx" is not a status class; write 5xx, 4xx … (a class), 404, 429 … (one status) or connect (no answer)',
      ]);
      assert.deepEqual(issueOf({ metric: 'latency_p95', errors: ['5xx'], failIf: { above: '1s' } }), [
        'spec.rollbackContract.rules.0.errors: errors is for error_rate and success_rate rules, not latency_p95',
      ]);
      assert.match(issueOf({ metric: 'success_rate', failIf: { below: 99 } })[0]!, /success_rate is a fraction 0\.\.1/);
    });

    it('reads query, burnRate and signal rules, naming each after what it watches', () => {
      const { spec, issues } = check(
        withRules([
          {
            name: 'success-rate',
            query: 'sum(rate(x{version="${version}"}[${window}]))',
            failIf: { below: 'baseline', by: 0.01 },
          },
          { burnRate: { objective: '99.9%', windows: [{ long: '1h', short: '5m', factor: 14.4 }] } },
          { signal: 'customer_complaint', failIf: { count: 3, within: '10m' } },
        ]),
      );
      assert.deepEqual(issues, []);
      assert.deepEqual(spec?.spec.rollbackContract.rules, [
        {
          name: 'success-rate',
          metric: 'query',
          query: 'sum(rate(x{version="${version}"}[${window}]))',
          failIf: { op: 'below', reference: 'baseline', by: 0.01 },
        },
        {
          name: 'burn_rate',
          metric: 'burn_rate',
          objective: 0.999,
          windows: [{ longMs: 3_600_000, shortMs: 300_000, factor: 14.4 }],
        },
        { name: 'customer_complaint', metric: 'signal', signal: 'customer_complaint', count: 3, withinMs: 600_000 },
      ]);
    });

    it('takes judge: mannWhitney for ratio rules against the baseline only', () => {
      const { spec, issues } = check(
        withRules([{ metric: 'latency_p95', failIf: { above: 'baseline', times: 1.1 }, judge: 'mannWhitney' }]),
      );
      assert.deepEqual(issues, []);
      assert.equal((spec?.spec.rollbackContract.rules[0] as { judge?: string }).judge, 'mannWhitney');
      assert.match(
        issueOf({ metric: 'latency_p95', failIf: { above: 'baseline', by: '100ms' }, judge: 'mannWhitney' })[0]!,
        /judge: the mannWhitney judge compares the canary with the baseline as a ratio/,
      );
      assert.match(
        issueOf({ metric: 'request_rate', failIf: { below: 'baseline', times: 0.5 }, judge: 'mannWhitney' })[0]!,
        /not request_rate/,
      );
      assert.match(
        issueOf({ metric: 'error_rate', failIf: { above: 0.1 }, judge: 'bayes' })[0]!,
        /judge: unknown judge "bayes"; valid: sequential, threshold, mannWhitney/,
      );
    });

    it('says what is wrong with a rule of the wrong shape', () => {
      assert.deepEqual(issueOf({ failIf: { above: 0.1 } }), [
        'spec.rollbackContract.rules.0: a rule needs one of metric, query, burnRate or signal',
      ]);
      assert.deepEqual(issueOf({ metric: 'error_rate', query: 'up', failIf: { above: 0.1 } }), [
        'spec.rollbackContract.rules.0.query: a rule watches one thing: metric and query cannot be combined',
      ]);
      assert.deepEqual(issueOf({ signal: 'pager', failIf: { above: 3 } }), [
        'spec.rollbackContract.rules.0.failIf: a signal rule needs failIf: { count: N, within: 10m } and nothing else',
      ]);
      assert.deepEqual(issueOf({ metric: 'error_rate', failIf: { count: 3 } }), [
        'spec.rollbackContract.rules.0.failIf.count: count is for signal rules; this rule takes above or below',
      ]);
      assert.match(
        issueOf({ burnRate: { objective: '120%', windows: [] } }).join('\n'),
        /objective: write the objective as a percentage[\s\S]*windows: needs at least one window pair/,
      );
    });

    it('names rules after their metric, suffixing repeats and avoiding explicit names', () => {
      const rule = (extra: object) => ({ metric: 'error_rate', failIf: { above: 0.1 }, ...extra });
      const { spec } = check(
        withRules([rule({}), rule({ name: 'error_rate#2' }), rule({}), rule({ failureLimit: null })]),
      );
      const rules = spec?.spec.rollbackContract.rules ?? [];
      assert.deepEqual(
        rules.map((r) => r.name),
        ['error_rate', 'error_rate#2', 'error_rate#3', 'error_rate#4'],
      );
      assert.equal(rules[3]?.failureLimit, null);
      assert.deepEqual(issuesOf(withRules([rule({ name: 'cap' }), rule({ name: 'cap' })])), [
        'spec.rollbackContract.rules.1.name: duplicate rule name "cap" (first at rules[0])',
      ]);
    });
  });

  describe('drivers', () => {
    it('keeps the raw target template but validates it interpolated', () => {
      const { spec } = check((doc) => {
        doc.spec.target.command = ['bin/${service}', '--version=${version}', 'echo $${HOME}'];
      });
      assert.deepEqual(spec?.spec.target.command, ['bin/${service}', '--version=${version}', 'echo $${HOME}']);
      // The driver schema saw the interpolated value: a placeholder cannot hide a bad path.
      const issues = issuesOf((doc) => {
        doc.spec.target.readiness.path = '${version}/healthz';
      });
      assert.deepEqual(issues, ['spec.target.readiness.path: must be text starting with "/", got "2.0.0/healthz"']);
    });

    it('names unknown placeholders and the valid ones, and still checks the rest of the target', () => {
      const issues = issuesOf((doc) => {
        doc.spec.target.command = ['node', 'releases/${foo}/server.js'];
        doc.spec.target.readiness.timeout = '10 sec';
      });
      assert.deepEqual(issues, [
        'spec.target.command.1: unknown placeholder ${foo}; valid placeholders: ${version}, ${service}',
        'spec.target.readiness.timeout: "10 sec" is not a duration; write e.g. 500ms, 30s, 5m or 1h',
      ]);
    });

    it('lists the valid drivers for an unknown one', () => {
      const issues = issuesOf((doc) => {
        doc.spec.target.driver = 'lambda';
        doc.spec.router.driver = 'nginx';
        doc.spec.metrics.provider = 'datadog';
      });
      assert.deepEqual(issues, [
        'spec.target.driver: unknown target driver "lambda"; valid: process, static; the other fields here are checked once the driver is known',
        'spec.router.driver: unknown router driver "nginx"; valid: builtin; the other fields here are checked once the driver is known',
        'spec.metrics.provider: unknown metrics provider "datadog"; valid: builtin, prometheus; the other fields here are checked once the driver is known',
      ]);
    });

    it("outputs the router and metrics drivers' parsed config and reports their issues in place", () => {
      const { spec } = check((doc) => {
        doc.spec.metrics = { provider: 'prometheus', url: 'http://127.0.0.1:9090' } as never;
      });
      assert.deepEqual(spec?.spec.metrics, { provider: 'prometheus', url: 'http://127.0.0.1:9090' });
      const issues = issuesOf((doc) => {
        doc.spec.router.listen = '8080';
      });
      assert.deepEqual(issues, ['spec.router.listen: write host:port, e.g. 127.0.0.1:8080']);
    });
  });

  it('refuses request rules that the builtin metrics provider cannot measure behind another router', () => {
    const withHaproxy = serviceSchema({
      ...testDrivers,
      routers: {
        ...testDrivers.routers,
        haproxy: z.strictObject({ driver: z.literal('haproxy'), listen: z.string() }),
      },
    });
    const parse = (edit: (doc: Doc) => void) => {
      const doc = exampleDocument();
      edit(doc);
      const r = withHaproxy.safeParse(doc);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    const issues = parse((doc) => {
      doc.spec.router = { driver: 'haproxy', listen: '127.0.0.1:8080' } as never;
    });
    assert.equal(issues.length, 1);
    assert.match(
      issues[0]!,
      /^spec\.metrics: the builtin metrics provider measures router "builtin", not router "haproxy": rules error_rate, latency_p95, .* would never get data/,
    );
    const other = parse((doc) => {
      doc.spec.router = { driver: 'haproxy', listen: '127.0.0.1:8080' } as never;
      doc.spec.metrics = { provider: 'prometheus', url: 'http://127.0.0.1:9090' } as never;
    });
    assert.deepEqual(other, [], 'another provider is fine');
  });

  it('reports every problem of a document at once', () => {
    const issues = issuesOf((doc) => {
      doc.metadata.name = 'Checkout';
      doc.spec.target.driver = 'lambda';
      doc.spec.strategy.canary.steps = [{ setWeight: 50 }, { setWeight: 10 }] as never;
      doc.spec.rollbackContract.window = 'half a minute';
    });
    assert.equal(issues.length, 4, issues.join('\n'));
  });
});
