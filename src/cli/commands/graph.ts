import { graphToDot, type DependencyGraph } from '../../core/graph/index.ts';
import type { CommandDef } from '../command.ts';

function format(g: DependencyGraph): string {
  if (g.services.length === 0) return 'no services';
  const rows = g.services.map((s) => [
    s.name,
    s.running ?? '-',
    s.releasing ?? '',
    s.dependsOn
      .map(
        (d) =>
          `${d.service} ${d.range}${g.edges.find((e) => e.from === s.name && e.to === d.service)?.met === false ? ' (UNMET)' : ''}`,
      )
      .join(', ') || '-',
  ]);
  const head = ['SERVICE', 'RUNNING', 'RELEASING', 'DEPENDS ON'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const lines = [head, ...rows].map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  if (g.levels.length > 0) lines.push('', `release order: ${g.levels.map((l) => l.join(' + ')).join(' → ')}`);
  lines.push(
    '',
    g.violations.length === 0
      ? 'no violations'
      : `violations:\n${g.violations.map((v) => `  ${v.message}`).join('\n')}`,
  );
  return lines.join('\n');
}

export const graphCommand: CommandDef = {
  name: 'graph',
  summary: 'the dependency graph: services, the versions they run, dependencies with their ranges, violations',
  usage: 'sluice graph [-o text|json|dot]',
  outputs: ['dot'],
  async run({ client, out, json, output }) {
    const g = await client().get<DependencyGraph>('/api/graph');
    out(output === 'dot' ? graphToDot(g).trimEnd() : json ? JSON.stringify(g, null, 2) : format(g));
    return g.violations.length === 0 ? 0 : 1;
  },
};
