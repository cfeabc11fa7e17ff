import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSpecs } from './parse.ts';
import { SpecError, type SpecIssue } from './spec-error.ts';
import { exampleSpec, exampleYaml, testDrivers } from './test-fixtures.ts';

const FILE = 'services/checkout.yaml';

/** `line:col` of `needle`, searching from the line holding `after` so a repeated text can be singled out. */
function at(text: string, needle: string, after = ''): string {
  const from = after ? text.lastIndexOf('\n', text.indexOf(after)) + 1 : 0;
  const index = text.indexOf(needle, from);
  assert.ok(index >= 0, `"${needle}" is not in the text`);
  const lines = text.slice(0, index).split('\n');
  return `${lines.length}:${lines.at(-1)!.length + 1}`;
}

/** The example with `from` replaced by `to` (which must occur). */
function broken(from: string, to: string, text = exampleYaml): string {
  assert.ok(text.includes(from), `"${from}" is not in the example`);
  return text.replace(from, to);
}

function issuesOf(text: string): SpecIssue[] {
  try {
    parseSpecs(text, FILE, testDrivers);
  } catch (error) {
    assert.ok(error instanceof SpecError, `expected a SpecError, got ${String(error)}`);
    return error.issues;
  }
  assert.fail('expected the file to be rejected');
}

/** Each issue as `line:col path: message`. */
function reported(text: string): string[] {
  return issuesOf(text).map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
}

describe('parseSpecs', () => {
  it('parses the documented example into the normalised spec', () => {
    assert.deepEqual(parseSpecs(exampleYaml, FILE, testDrivers), [exampleSpec]);
  });

  it('reports a missing rollback contract at the spec map', () => {
    const text = exampleYaml.slice(0, exampleYaml.indexOf('  rollbackContract:'));
    assert.deepEqual(reported(text), [
      `${at(text, 'version:')} spec.rollbackContract: is required: a release needs explicit rollback thresholds (add rollbackContract with rules)`,
    ]);
  });

  it('reports a baseline rule without a threshold at its failIf', () => {
    const text = broken('{ above: baseline, by: 0.01 }', '{ above: baseline }');
    const [issue] = issuesOf(text);
    assert.equal(`${issue?.line}:${issue?.column}`, at(text, 'baseline }'));
    assert.equal(issue?.path, 'spec.rollbackContract.rules[0].failIf.above');
    assert.match(issue?.message ?? '', /^baseline needs a threshold: add by: … .* or times: …/);
  });

  it('reports each kind of mistake at the offending text', () => {
    const cases: [string, string, string, string][] = [
      [
        'timeout: 10s',
        'timeout: 10 sec',
        '10 sec',
        'spec.target.readiness.timeout: "10 sec" is not a duration; write e.g. 500ms, 30s, 5m or 1h',
      ],
      [
        'metric: latency_p99',
        'metric: latency_p98',
        'latency_p98',
        'spec.rollbackContract.rules[4].metric: unknown metric "latency_p98"; valid metrics: error_rate, success_rate, latency_p50, latency_p90, latency_p95, latency_p99, latency_mean, request_rate, instance_crashes',
      ],
      [
        'driver: builtin',
        'driver: nginx',
        'nginx',
        'spec.router.driver: unknown router driver "nginx"; valid: builtin; the other fields here are checked once the driver is known',
      ],
      [
        'driver: process',
        'driver: lambda',
        'lambda',
        'spec.target.driver: unknown target driver "lambda"; valid: process, static; the other fields here are checked once the driver is known',
      ],
      [
        '- setWeight: 50',
        '- setWeight: 5',
        '5\n',
        'spec.strategy.canary.steps[4].setWeight: setWeight 5 is below 10 at steps[2]: weights must not decrease',
      ],
      [
        'releases/${version}',
        'releases/${ver}',
        '"releases',
        'spec.target.command[1]: unknown placeholder ${ver}; valid placeholders: ${version}, ${service}',
      ],
      [
        'stickiness:',
        'stickyness:',
        'stickyness',
        'spec.router.stickyness: unknown field "stickyness" (did you mean "stickiness"?); valid fields: driver, listen, stickiness',
      ],
      [
        '{ above: 2s }',
        '{ above: 2s, by: 1s }',
        '1s }',
        'spec.rollbackContract.rules[4].failIf.by: by is only for comparisons with the baseline (above: baseline); a fixed threshold is the above value itself',
      ],
      [
        'name: checkout',
        'name: Checkout',
        'Checkout',
        'metadata.name: must be a DNS label: a lowercase letter, then up to 62 lowercase letters, digits or -',
      ],
      ['version: "2.0.0"', 'version: 2.0', '2.0', 'spec.version: must be a string: quote it, e.g. version: "2.0"'],
    ];
    for (const [from, to, where, message] of cases) {
      const text = broken(from, to);
      assert.deepEqual(reported(text), [`${at(text, where, to)} ${message}`], `after replacing ${from} with ${to}`);
    }
  });

  it('points at a misspelt key and says what it should be', () => {
    const text = broken('  rollbackContract:', '  rollbackcontract:');
    // One problem, one message: "rollbackContract is required" would say the same thing again.
    assert.deepEqual(reported(text), [
      `${at(text, 'rollbackcontract')} spec.rollbackcontract: unknown field "rollbackcontract" (did you mean "rollbackContract"?); valid fields: version, target, router, metrics, notifications, strategy, rollbackContract, environments, risk, owners, dependsOn, migrations, flags`,
    ]);
  });

  it('reports YAML syntax errors as file:line:col', () => {
    const text = broken('  name: checkout', '  name: checkout: shop');
    const issues = issuesOf(text);
    assert.equal(issues.length, 1);
    const [line, column] = at(text, 'checkout: shop').split(':').map(Number);
    assert.deepEqual({ ...issues[0], message: undefined }, { file: FILE, line, column, path: '', message: undefined });
    assert.match(issues[0]!.message, /^YAML: /);
  });

  it('formats every issue of every document, in file order, one per line', () => {
    const second = broken('name: checkout', 'name: search', broken('timeout: 10s', 'timeout: soon'));
    const text = `${broken('minSamples: 50', 'minSamples: 0')}---\n${second}`;
    assert.throws(
      () => parseSpecs(text, FILE, testDrivers),
      (error: unknown) => {
        assert.ok(error instanceof SpecError);
        assert.equal(error.code, 'SPEC_INVALID');
        assert.deepEqual(error.message.split('\n'), [
          `${FILE}:${at(text, '0\n', 'minSamples: 0')}: spec.rollbackContract.minSamples: must be at least 1 (a whole number), got 0`,
          `${FILE}:${at(text, 'soon')}: spec.target.readiness.timeout: "soon" is not a duration; write e.g. 500ms, 30s, 5m or 1h`,
        ]);
        return true;
      },
    );
  });

  it("places a problem in the second document on that document's lines", () => {
    const second = broken('name: checkout', 'name: search', broken('above: 0.2', 'above: 20'));
    const text = `${exampleYaml}---\n${second}`;
    assert.deepEqual(reported(text), [
      `${at(text, '20 }')} spec.rollbackContract.rules[3].failIf.above: error_rate is a fraction 0..1 (0.05 = 5%), got 20`,
    ]);
  });

  it('reads several documents, skipping empty ones', () => {
    const second = broken('name: checkout', 'name: search');
    const text = `# services\n---\n${exampleYaml}---\n---\n# nothing here\n---\n${second}`;
    const specs = parseSpecs(text, FILE, testDrivers);
    assert.deepEqual(
      specs.map((s) => s.metadata.name),
      ['checkout', 'search'],
    );
  });

  it('rejects a file without documents and duplicate service names', () => {
    for (const empty of ['', '# just a comment\n', '---\n---\n']) {
      assert.deepEqual(reported(empty), [
        '1:1 : no Service document found; expected apiVersion: sluice.dev/v1alpha1, kind: Service',
      ]);
    }
    const text = `${exampleYaml}---\n${exampleYaml}`;
    const secondName = at(text, 'checkout', '---\n');
    assert.deepEqual(reported(text), [
      `${secondName} metadata.name: duplicate service name "checkout" (first defined at line 4)`,
    ]);
  });

  it('reports a document that is not a map', () => {
    assert.deepEqual(reported('just text\n'), [
      '1:1 : expected a map with fields apiVersion, kind, metadata, spec; got "just text"',
    ]);
  });
});
