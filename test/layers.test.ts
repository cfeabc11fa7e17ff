/**
 * The linter holds the layers (docs/architecture.md, "The layers the linter holds"): files that cross a
 * forbidden boundary, float a promise or close an import cycle are written into the real tree for a
 * moment (under names no other test reads), and `npm run lint`'s own tools must refuse each one,
 * naming the rule, while the same places with allowed imports pass.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ROOT } from './support/sluice.ts';

/** ESLint run by this Node (the pinned 24: the linter's workspace needs its module hooks). */
const ESLINT = join(ROOT, 'node_modules/eslint/bin/eslint.js');
const probe = `lint-probe-${process.pid}`;
const written: string[] = [];
after(() => {
  for (const file of written) rmSync(file, { force: true });
});

function write(path: string, text: string): string {
  const file = join(ROOT, path);
  written.push(file);
  writeFileSync(file, text);
  return path;
}

/** eslint's findings on these files, by file: "rule: message" lines. */
async function eslint(files: string[]): Promise<{ code: number; found: (file: string) => string }> {
  const { code, out } = await run(process.execPath, [ESLINT, '--format', 'json', ...files]);
  let results: { filePath: string; messages: { ruleId: string | null; message: string }[] }[];
  try {
    results = JSON.parse(out);
  } catch {
    assert.fail(`eslint did not answer with JSON: ${out}`);
  }
  const found = (file: string) =>
    results
      .filter((r) => r.filePath === join(ROOT, file))
      .flatMap((r) => r.messages.map((m) => `${m.ruleId}: ${m.message}`))
      .join('\n');
  return { code, found };
}

function run(command: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

test('eslint refuses layer crossings and a floating promise; allowed imports in the same places pass', async () => {
  const core = write(
    `src/core/${probe}.ts`,
    [
      "import { readFileSync } from 'node:fs';",
      "import type { Engine } from '../engine/engine.ts';",
      'export const probe = (e: Engine): unknown => [readFileSync, e];',
      '',
    ].join('\n'),
  );
  const driver = write(
    `src/drivers/routers/haproxy/${probe}.ts`,
    [
      "import type { Engine } from '../../../engine/engine.ts';",
      "import { nginxRouterConfig } from '../nginx/config.ts';",
      'export const probe = (e: Engine): unknown => [e, nginxRouterConfig];',
      '',
    ].join('\n'),
  );
  const web = write(
    `web/src/${probe}.ts`,
    [
      "import type { Engine } from '../../src/engine/engine.ts';",
      'export const probe = (e: Engine): unknown => e;',
      '',
    ].join('\n'),
  );
  const engine = write(
    `src/engine/${probe}.ts`,
    ['async function work(): Promise<void> {}', 'export function probe(): void {', '  work();', '}', ''].join('\n'),
  );

  // The same places with allowed imports and the promise handled: the rules do not refuse everything.
  const fine = [
    write(
      `src/core/${probe}-fine.ts`,
      "import { parseDuration } from './units.ts';\nexport const probe = (): unknown => parseDuration('1s');\n",
    ),
    write(
      `src/drivers/routers/haproxy/${probe}-fine.ts`,
      "import type { Weights } from '../../../core/types.ts';\nexport const probe = (w: Weights): unknown => w;\n",
    ),
    write(
      `web/src/${probe}-fine.ts`,
      "import type { ServiceStatus } from '../../src/views/index.ts';\nexport const probe = (s: ServiceStatus): unknown => s;\n",
    ),
    write(
      `src/engine/${probe}-fine.ts`,
      'async function work(): Promise<void> {}\nexport async function probe(): Promise<void> {\n  await work();\n}\n',
    ),
  ];

  const { code, found } = await eslint([core, driver, web, engine, ...fine]);
  assert.equal(code, 1);
  assert.match(found(core), /no-restricted-imports: 'node:fs' import is restricted/);
  assert.match(
    found(core),
    /"\.\.\/engine\/engine\.ts" imported in restricted zone\. src\/core may import src\/core only/,
  );
  assert.match(
    found(driver),
    /"\.\.\/\.\.\/\.\.\/engine\/engine\.ts" imported in restricted zone\. src\/drivers may import src\/core/,
  );
  assert.match(
    found(driver),
    /"\.\.\/nginx\/config\.ts" imported in restricted zone\. a driver imports no other driver's folder/,
  );
  assert.match(
    found(web),
    /src\/engine\/engine\.ts" imported in restricted zone\. the dashboard imports src\/views\/index\.ts only/,
  );
  assert.match(found(engine), /@typescript-eslint\/no-floating-promises: Promises must be awaited/);
  for (const file of fine) assert.equal(found(file), '', file);
});

test('an import cycle is refused, through import type as well', async () => {
  const a = write(
    `src/engine/${probe}-a.ts`,
    `import type { B } from './${probe}-b.ts';\nexport interface A { b: B }\n`,
  );
  const b = write(
    `src/engine/${probe}-b.ts`,
    `import type { A } from './${probe}-a.ts';\nexport interface B { a?: A }\n`,
  );
  const cycles = await run(process.execPath, ['tools/lint/cycles.js']);
  assert.equal(cycles.code, 1, cycles.out);
  assert.ok(cycles.out.includes(`${a} <-> ${b}`), cycles.out);

  // A cycle of imports that run: import-x/no-cycle in eslint refuses it too.
  write(a, `import { b } from './${probe}-b.ts';\nexport const a = (): number => b() + 1;\n`);
  write(b, `import { a } from './${probe}-a.ts';\nexport const b = (): number => (Math.random() > 2 ? a() : 0);\n`);
  const { code, found } = await eslint([a]);
  assert.equal(code, 1);
  assert.match(found(a), /import-x\/no-cycle: Dependency cycle detected/);
});
