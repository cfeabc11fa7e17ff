/** The dependency graph as Graphviz DOT (`sluice graph -o dot`): unmet edges and violating services in red. */
import type { DependencyGraph } from './types.ts';

const quote = (s: string) => JSON.stringify(s);

export function graphToDot(g: DependencyGraph): string {
  const violating = new Set(g.violations.map((v) => v.service));
  const lines = ['digraph sluice {', '  rankdir=BT;', '  node [shape=box];'];
  for (const s of g.services) {
    const label = `${s.name}\\n${s.running ?? '(not running)'}${s.releasing ? ` → ${s.releasing}` : ''}`;
    lines.push(`  ${quote(s.name)} [label="${label}"${violating.has(s.name) ? ', color=red, fontcolor=red' : ''}];`);
  }
  for (const e of g.edges)
    lines.push(
      `  ${quote(e.from)} -> ${quote(e.to)} [label=${quote(e.range)}${e.met ? '' : ', color=red, fontcolor=red'}];`,
    );
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
