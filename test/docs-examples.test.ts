/**
 * Every complete spec in the README and docs/ (a YAML block with apiVersion and kind) and every
 * file in examples/ is valid
 * against the real schemas, so the documentation cannot drift from what Sluice accepts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readDocuments } from '../src/spec/documents.ts';
import { parsePolicy } from '../src/spec/release-policy-schema.ts';
import { driverSchemas } from '../src/drivers/registry.ts';
import { parseGameDay, parseSpecs } from '../src/spec/index.ts';
import { ROOT } from './support/sluice.ts';

const files = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const examples = ['examples/checkout', 'examples/more'].flatMap((dir) =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => `${dir}/${f}`),
);

function yamlBlocks(file: string): { text: string; line: number }[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const blocks: { text: string; line: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```yaml') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]!.trim() !== '```') end++;
    blocks.push({ text: lines.slice(start, end).join('\n'), line: start + 1 });
    i = end;
  }
  return blocks.filter((b) => /^apiVersion:/m.test(b.text) && /^kind:/m.test(b.text));
}

test('every complete spec in the README, docs/ and examples/ is valid', () => {
  const checked: string[] = [];
  const problems: string[] = [];
  const examplesAsBlocks = examples.map((file) => ({
    file,
    blocks: [{ text: readFileSync(join(ROOT, file), 'utf8'), line: 1 }],
  }));
  for (const { file, blocks } of [...files.map((file) => ({ file, blocks: yamlBlocks(file) })), ...examplesAsBlocks]) {
    for (const block of blocks) {
      const where = `${file}:${block.line}`;
      try {
        if (/^kind:\s*ReleasePolicy\s*$/m.test(block.text)) parsePolicy(block.text, where);
        else if (/^kind:\s*(ReleaseTrain|FeatureFlag|Segment)\s*$/m.test(block.text))
          readDocuments(block.text, where, driverSchemas());
        else if (/^kind:\s*GameDay\s*$/m.test(block.text)) parseGameDay(block.text, where);
        else parseSpecs(block.text, where, driverSchemas());
        checked.push(where);
      } catch (err) {
        problems.push(`${where}: ${(err as Error).message}`);
      }
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(checked.length >= 10, `only ${checked.length} complete specs found: ${checked.join(', ')}`);
});
