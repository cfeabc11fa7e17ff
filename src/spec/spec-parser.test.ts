import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parseSpecs } from './parse.ts';
import { SpecError } from './spec-error.ts';
import { SPEC_LIMITS, SpecLimitError } from './spec-limits.ts';
import { SpecParser, SpecParserBusyError } from './spec-parser.ts';
import { exampleYaml, testDrivers } from './test-fixtures.ts';

const schemasModule = new URL('./fixtures/driver-schemas.ts', import.meta.url);
const FILE = 'services/checkout.yaml';

/** A mapping of `n` keys under `spec.extra`, the shape of the text that held the server 30 s. */
const manyKeys = (n: number) =>
  `${exampleYaml}  extra:\n${Array.from({ length: n }, (_, i) => `    k${i}: ${i}`).join('\n')}\n`;

/** The longest the main thread's event loop was held while `work` ran, in ms. */
async function longestStall(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  try {
    await work().catch(() => undefined);
  } finally {
    clearInterval(timer);
  }
  return longest;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail('expected the text to be refused');
}

describe('SpecParser', () => {
  const parser = new SpecParser({ schemasModule });
  after(() => parser.close());

  it('reads a text into the same specs as parseSpecs, and its documents', async () => {
    const text = await parser.parse(exampleYaml, FILE);
    assert.deepEqual(text.services, parseSpecs(exampleYaml, FILE, testDrivers));
    assert.equal(text.documents.length, 1);
    assert.equal((text.documents[0] as { kind: string }).kind, 'Service');
    assert.equal(text.policy, undefined);
  });

  it('answers an invalid text with every issue, positioned', async () => {
    const err = await rejection(parser.parse(exampleYaml.replace('setWeight: 10', 'setWeight: -10'), FILE));
    assert.ok(err instanceof SpecError, String(err));
    assert.match(err.issues[0]!.message, /setWeight|0/);
    assert.ok(err.issues[0]!.line > 1);
  });

  it('refuses a mapping of 12,000 keys by its count, without parsing it, naming the limit', async () => {
    const started = performance.now();
    const err = await rejection(parser.parse(manyKeys(12_000), FILE));
    assert.ok(err instanceof SpecLimitError, String(err));
    assert.equal(err.limit, 'keysPerMapping');
    assert.equal(err.given, 12_000);
    assert.equal(err.max, SPEC_LIMITS.keysPerMapping);
    assert.match(
      err.message,
      /^services\/checkout\.yaml: the mapping at line \d+ has 12000 keys; the limit is 500 keys per mapping/,
    );
    assert.ok(performance.now() - started < 1_500, `refused in ${Math.round(performance.now() - started)} ms`);
  });

  it('refuses deep nesting, many aliases, too many keys in all and a text too long', async () => {
    const deep = await rejection(parser.parse(`a: ${'['.repeat(100)}${']'.repeat(100)}\n`, FILE));
    assert.ok(deep instanceof SpecLimitError && deep.limit === 'depth' && deep.max === SPEC_LIMITS.depth, String(deep));
    const aliases = `a: &x [1]\n${Array.from({ length: 150 }, (_, i) => `b${i}: *x`).join('\n')}\n`;
    const alias = await rejection(parser.parse(aliases, FILE));
    assert.ok(alias instanceof SpecLimitError && alias.limit === 'aliases' && alias.given === 101, String(alias));
    const wide = Array.from(
      { length: 30 },
      (_, j) => `m${j}:\n${Array.from({ length: 400 }, (_, i) => `  k${i}: 1`).join('\n')}`,
    ).join('\n');
    const keys = await rejection(parser.parse(wide, FILE));
    assert.ok(keys instanceof SpecLimitError && keys.limit === 'keys', String(keys));
    const long = await rejection(parser.parse(`a: "${'x'.repeat(300 * 1024)}"\n`, FILE));
    assert.ok(long instanceof SpecLimitError && long.limit === 'textBytes' && long.given > long.max, String(long));
    assert.match(long.message, /has \d+ bytes of text; the limit is 262144 bytes of text/);
  });

  it('stops a text past its deadline, and the event loop is never held', async () => {
    // Limits raised so the quadratic parse itself runs: only the deadline stops it.
    const slow = new SpecParser({
      schemasModule,
      deadlineMs: 300,
      limits: { ...SPEC_LIMITS, textBytes: 8e6, keysPerMapping: 1e6, keys: 1e6 },
    });
    after(() => slow.close());
    await slow.warm();
    let err: unknown;
    const started = performance.now();
    const stall = await longestStall(async () => (err = await rejection(slow.parse(manyKeys(60_000), FILE))));
    const took = performance.now() - started;
    assert.ok(err instanceof SpecLimitError && err.limit === 'parseMs', String(err));
    assert.match(err.message, /parsing took longer than 300 ms and was stopped/);
    // Generous for a loaded machine; parsed on this thread, the text would hold it for 20 s and more.
    assert.ok(took < 3_000, `stopped after ${Math.round(took)} ms`);
    assert.ok(stall < 1_000, `the event loop was held ${Math.round(stall)} ms`);
    // A fresh worker reads the next text.
    assert.equal((await slow.parse(exampleYaml, FILE)).services.length, 1);
  });

  it('refuses texts beyond its queue as busy', async () => {
    const one = new SpecParser({ schemasModule, workers: 1, queue: 1 });
    after(() => one.close());
    const texts = [one.parse(exampleYaml, FILE), one.parse(exampleYaml, FILE), one.parse(exampleYaml, FILE)];
    const settled = await Promise.allSettled(texts);
    assert.equal(settled.filter((s) => s.status === 'fulfilled').length, 2);
    const refused = settled.find((s) => s.status === 'rejected');
    assert.ok(refused?.status === 'rejected' && refused.reason instanceof SpecParserBusyError);
  });
});
