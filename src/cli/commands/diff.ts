import type { SpecDifference } from '../../views/index.ts';
import type { CommandDef } from '../command.ts';

interface DiffView {
  service: string;
  a: { environment: string; version: string };
  b: { environment: string; version: string };
  differences: SpecDifference[];
}

const show = (v: unknown) =>
  v === null || v === undefined ? '(absent)' : typeof v === 'string' ? v : JSON.stringify(v);

export const diffCommand: CommandDef = {
  name: 'diff',
  summary: "how two environments' effective specs differ (field path, both values); exit 1 when they differ",
  usage: 'sluice diff SERVICE ENVIRONMENT_A ENVIRONMENT_B',
  args: ['service', 'environment_a', 'environment_b'],
  async run({ positionals, client, out, json }) {
    const [service, a, b] = positionals as [string, string, string];
    const d = await client().get<DiffView>(`/api/services/${service}/diff?${new URLSearchParams({ a, b })}`);
    if (json) {
      out(JSON.stringify(d, null, 2));
    } else if (d.differences.length === 0) {
      out(`${service}: ${a} and ${b} have the same effective spec`);
    } else {
      const width = Math.max(...d.differences.map((x) => x.path.length));
      out(
        [
          `${service}: ${a} (${d.a.version}) vs ${b} (${d.b.version})`,
          ...d.differences.map((x) => `  ${x.path.padEnd(width)}  ${show(x.a)}  →  ${show(x.b)}`),
        ].join('\n'),
      );
    }
    return d.differences.length === 0 ? 0 : 1;
  },
};
