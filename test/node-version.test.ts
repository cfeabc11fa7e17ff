/**
 * One Node version requirement, told the same everywhere: package.json `engines`, the README, and
 * what every installed package declares (`npm ci` on an older Node once warned EBADENGINE for
 * cookie, which needs Node 22, while the README said Node 20 would do).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './support/sluice.ts';

type Version = [number, number, number];

function version(text: string): Version {
  const [major = 0, minor = 0, patch = 0] = text.replace(/\.x$/, '').split('.').map(Number);
  return [major, minor, patch];
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Whether `v` satisfies an npm engines range of the forms packages use: `>=X`, `>X`, `^X.Y`, `a || b`. */
function satisfies(v: Version, range: string): boolean {
  return range.split('||').some((alternative) => {
    const comparators = alternative
      .trim()
      .replace(/([<>=^~]+)\s+/g, '$1')
      .split(/\s+/)
      .filter(Boolean);
    return comparators.every((c) => {
      const m = /^(>=|>|<=|<|\^|~|=)?(\d+(?:\.\d+){0,2}(?:\.x)?)$/.exec(c);
      if (m === null) throw new Error(`unreadable engines range ${range}`);
      const bound = version(m[2]!);
      const cmp = compare(v, bound);
      switch (m[1]) {
        case '>=':
          return cmp >= 0;
        case '>':
          return cmp > 0;
        case '<=':
          return cmp <= 0;
        case '<':
          return cmp < 0;
        case '^':
          return cmp >= 0 && v[0] === bound[0];
        case '~':
          return cmp >= 0 && v[0] === bound[0] && v[1] === bound[1];
        default:
          return v[0] === bound[0] && (m[2]!.split('.').length < 2 || v[1] === bound[1]);
      }
    });
  });
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const minimum = /^>=(\d+\.\d+\.\d+)$/.exec(pkg.engines.node)?.[1];

test('package.json engines is a plain minimum that every installed package accepts', () => {
  assert.ok(minimum, `engines.node is >=X.Y.Z, got ${pkg.engines.node}`);
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { engines?: { node?: string }; optional?: boolean }>;
  };
  const refused = Object.entries(lock.packages)
    .filter(
      ([path, p]) => path !== '' && typeof p.engines?.node === 'string' && !satisfies(version(minimum), p.engines.node),
    )
    .map(([path, p]) => `${path.replace(/^.*node_modules\//, '')} needs node ${p.engines!.node}`);
  assert.deepEqual(refused, [], `npm ci on Node ${minimum} would warn EBADENGINE`);
});

test('the README states the same minimum', () => {
  const [major, minor] = minimum!.split('.');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const stated = [...readme.matchAll(/Node ≥ (\d+(?:\.\d+)?)/g)].map((m) => m[1]);
  assert.ok(stated.length > 0, 'the README says which Node it needs');
  assert.deepEqual([...new Set(stated)], [`${major}.${minor}`]);
});

test('the range reader reads the forms packages use', () => {
  assert.equal(satisfies([22, 18, 0], '>=22'), true);
  assert.equal(satisfies([20, 0, 0], '>=22'), false);
  assert.equal(satisfies([22, 18, 0], '^20.19.0 || >=22.12.0'), true);
  assert.equal(satisfies([22, 12, 0], '^20.19.0 || ^22.13.0 || >=23.5.0'), false);
  assert.equal(satisfies([22, 18, 0], '>= 10.x'), true);
  assert.equal(satisfies([22, 18, 0], '^10 || ^12 || >=14'), true);
});
