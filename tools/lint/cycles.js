// Import cycles, type-only imports included. import-x/no-cycle (in eslint.config.js) sees only imports that
// run; a cycle through `import type` still ties two files together (neither can move or be read alone), so
// this check refuses those too. Prints each cycle as a chain of files; exits 1 when there is any.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const roots = ['src', 'web/src'];

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [path] : [];
  });
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
const files = roots.flatMap((r) => sourceFiles(join(root, r)));
const graph = new Map(
  files.map((file) => {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(IMPORT)]
      .map((m) => resolve(dirname(file), m[1] ?? m[2]))
      .filter((target) => existsSync(target) && !/\.test\.tsx?$/.test(target));
    return [file, [...new Set(targets)]];
  }),
);

// Tarjan's strongly connected components: every component of more than one file is a cycle.
let index = 0;
const stack = [];
const info = new Map();
const cycles = [];
function visit(v) {
  info.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of graph.get(v) ?? []) {
    if (!info.has(w)) {
      visit(w);
      info.get(v).low = Math.min(info.get(v).low, info.get(w).low);
    } else if (info.get(w).onStack) info.get(v).low = Math.min(info.get(v).low, info.get(w).index);
  }
  if (info.get(v).low === info.get(v).index) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      info.get(w).onStack = false;
      component.push(relative(root, w));
    } while (w !== v);
    if (component.length > 1) cycles.push(component.sort());
  }
}
for (const file of graph.keys()) if (!info.has(file)) visit(file);

if (cycles.length > 0) {
  console.error(
    `${cycles.length} import cycle(s), type-only imports included; break each by moving the shared declaration to a file both sides import:`,
  );
  for (const c of cycles) console.error(`  ${c.join(' <-> ')}`);
  process.exit(1);
}
console.log(`no import cycles among ${graph.size} files (type-only imports included)`);
