/**
 * The first hour: `sluice lint` on the checkout example with the mistakes new users made, against
 * the real drivers. Each message names the field, what was given and what is valid, once.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CLI, ROOT } from './support/sluice.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-lint-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const example = readFileSync(join(ROOT, 'examples/checkout/v1.yaml'), 'utf8');

/** The lines `sluice lint` prints for the example with `from` replaced by `to`, without the file:line:col. */
async function lint(from: string, to: string): Promise<string[]> {
  assert.ok(example.includes(from), `the example has ${from}`);
  const file = join(dir, 'checkout.yaml');
  writeFileSync(file, example.replace(from, to));
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, 'lint', '-f', file], { cwd: ROOT, timeout: 30_000 }, (err, _stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
  assert.equal(code, 1, stderr);
  return stderr
    .trim()
    .split('\n')
    .map((line) => line.replace(/^.*?checkout\.yaml:\d+:\d+: /, ''));
}

test('a weight out of range says the range, not the validator\'s ">=0"', async () => {
  assert.deepEqual(await lint('setWeight: 10', 'setWeight: -10'), [
    'spec.strategy.canary.steps[0].setWeight: must be from 0 to 100, got -10',
  ]);
});

test('a listen address written as a port says host:port', async () => {
  assert.deepEqual(await lint('listen: 127.0.0.1:8080', 'listen: 8080'), [
    'spec.router.listen: expected a string: host:port, e.g. 127.0.0.1:8080; got 8080',
  ]);
});

test('a misspelt field gets "did you mean", and only that message', async () => {
  assert.deepEqual(await lint('setWeight: 50', 'setWeigth: 50'), [
    'spec.strategy.canary.steps[2].setWeigth: unknown field "setWeigth" (did you mean "setWeight"?); valid fields: setWeight, pause, setHeaderRoute, smoke, setFlag',
  ]);
});

test('a misspelt driver names the valid drivers and still checks its config as the one meant', async () => {
  assert.deepEqual(await lint('driver: process', 'driver: proces'), [
    'spec.target.driver: unknown target driver "proces" (did you mean "process"?); valid: process, static, command; the other fields here were checked as process',
  ]);
  const both = await lint(
    'driver: process\n    command: ["node", "../service/server.ts"]',
    'driver: proces\n    command: "node server.ts"',
  );
  assert.equal(both.length, 2, both.join('\n'));
  assert.match(
    both[1]!,
    /^spec\.target\.command: expected a list.*got "node server\.ts" \(checked as driver: process\)$/,
  );
});
