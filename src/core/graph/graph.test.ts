import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  brokenDependents,
  declarationProblems,
  dependencyGraph,
  dependencyLevels,
  failForward,
  findCycle,
  rangeProblem,
  satisfies,
  unmetDependencies,
  type GraphService,
} from './index.ts';

const svc = (
  name: string,
  running: string | null,
  known: string[],
  dependsOn: [string, string][] = [],
): GraphService => ({
  name,
  running,
  releasing: null,
  known,
  dependsOn: dependsOn.map(([service, range]) => ({ service, range })),
});

test('ranges: valid and invalid, versions in and out', () => {
  assert.equal(rangeProblem('>=2.3.0 <3.0.0'), null);
  assert.equal(rangeProblem('^2.3'), null);
  assert.match(rangeProblem('>=two')!, /"\>=two" is not a semver range/);
  assert.match(rangeProblem('')!, /empty range/);
  assert.equal(satisfies('2.3.1', '>=2.3.0 <3.0.0'), true);
  assert.equal(satisfies('3.0.0', '>=2.3.0 <3.0.0'), false);
  assert.equal(satisfies('2.3', '>=2.3.0'), true, 'coerced');
  assert.equal(satisfies('latest', '*'), false, 'not semver: never in range');
});

test('cycles are found with their path; levels order what depends on nothing first', () => {
  assert.deepEqual(
    findCycle(
      new Map([
        ['a', ['b']],
        ['b', ['c']],
        ['c', ['a']],
      ]),
    ),
    ['a', 'b', 'c', 'a'],
  );
  assert.equal(
    findCycle(
      new Map([
        ['a', ['b']],
        ['b', []],
        ['c', ['a', 'b']],
      ]),
    ),
    null,
  );
  assert.deepEqual(
    dependencyLevels(
      new Map([
        ['checkout', ['payments']],
        ['payments', ['db']],
        ['db', []],
        ['search', []],
      ]),
    ),
    [['db', 'search'], ['payments'], ['checkout']],
  );
});

test('the graph shows each edge, whether it is met, and the services running against a dependency outside its range', () => {
  const g = dependencyGraph([
    svc('payments', '2.2.0', ['2.2.0', '2.3.0']),
    svc('checkout', '3.0.0', ['3.0.0'], [['payments', '>=2.3.0']]),
    svc('search', '1.0.0', ['1.0.0'], [['payments', '^2']]),
  ]);
  assert.deepEqual(
    g.edges.map((e) => `${e.from}->${e.to}:${e.met}`),
    ['checkout->payments:false', 'search->payments:true'],
  );
  assert.equal(g.violations.length, 1);
  assert.equal(g.violations[0]!.message, 'checkout 3.0.0 depends on payments >=2.3.0, and payments runs 2.2.0');
  assert.deepEqual(g.levels, [['payments'], ['checkout', 'search']]);
});

test('apply refuses an unknown service, an invalid range, a range no version meets, and a cycle', () => {
  const existing = [svc('payments', '2.2.0', ['2.2.0']), svc('search', '1.0.0', ['1.0.0'], [['checkout', '*']])];
  const problems = declarationProblems(
    [
      svc(
        'checkout',
        null,
        ['3.0.0'],
        [
          ['paymnts', '^2'],
          ['payments', 'two'],
          ['payments', '>=2.3.0'],
          ['search', '*'],
        ],
      ),
    ],
    existing,
  );
  assert.deepEqual(
    problems.map((p) => [p.index, p.message.split(/[;:]/)[0]]),
    [
      [0, 'unknown service "paymnts"'],
      [1, '"two" is not a semver range'],
      [2, 'no version of payments meets ">=2.3.0"'],
      [3, 'dependency cycle checkout → search → checkout'],
    ],
  );
  // A version applied in the same apply counts as known.
  assert.deepEqual(
    declarationProblems(
      [svc('payments', null, ['2.3.0']), svc('checkout', null, ['3.0.0'], [['payments', '>=2.3.0']])],
      existing,
    ),
    [],
  );
});

test('a release waits for an unmet dependency, or can never start; a rollback names the dependents it would break', () => {
  const services = [
    svc('payments', '2.2.0', ['2.2.0', '2.3.0']),
    svc('checkout', '3.0.0', ['3.0.0'], [['payments', '>=2.2.0']]),
  ];
  const unmet = unmetDependencies(
    [
      { service: 'payments', range: '>=2.3.0' },
      { service: 'payments', range: '>=9' },
    ],
    services,
  );
  assert.deepEqual(
    unmet.map((u) => u.never),
    [false, true],
  );
  assert.equal(unmet[0]!.message, 'payments runs 2.2.0, not a version in ">=2.3.0"');
  assert.deepEqual(unmetDependencies([{ service: 'payments', range: '^2.2' }], services), []);
  const broken = brokenDependents('payments', '2.1.0', services);
  assert.deepEqual(
    broken.map((b) => b.service),
    ['checkout'],
  );
  assert.equal(broken[0]!.message, 'checkout 3.0.0 depends on payments ">=2.2.0", and 2.1.0 is not in it');
  assert.match(
    failForward('payments', '2.1.0', broken, ['2.1.0', '2.2.0', '2.3.0']),
    /fail forward instead: release payments 2\.3\.0 .*or roll back checkout first/,
  );
  assert.deepEqual(brokenDependents('payments', '2.2.5', services), []);
});
