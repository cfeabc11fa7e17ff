import type { ServiceStatus } from '../../views/index.ts';
import { type CommandDef, UsageError } from '../command.ts';
import { formatStatus } from '../format.ts';

function control(
  name: string,
  summary: string,
  usage: string,
  options: CommandDef['options'],
  body: (v: Record<string, unknown>) => object,
): CommandDef {
  return {
    name,
    summary,
    usage,
    options,
    args: ['service'],
    async run({ positionals, values, client, out, json }) {
      const s = await client().post<ServiceStatus>(`/api/services/${positionals[0]}/${name}`, body(values));
      out(json ? JSON.stringify(s, null, 2) : formatStatus(s));
      return 0;
    },
  };
}

export const controlCommands: CommandDef[] = [
  control(
    'promote',
    'move a release to its next step (--full: straight to 100%); recorded with the verdicts of that moment',
    'sluice promote SERVICE [--full] [--reason TEXT]',
    { full: { type: 'boolean' }, reason: { type: 'string' } },
    (v) => ({ full: v.full === true, ...(v.reason !== undefined && { reason: v.reason }) }),
  ),
  control('pause', 'hold a release at its current weights (analysis goes on)', 'sluice pause SERVICE', {}, () => ({})),
  control('resume', 'continue a paused release', 'sluice resume SERVICE', {}, () => ({})),
  control(
    'abort',
    'send all traffic back to stable and stop the canary',
    'sluice abort SERVICE [--reason TEXT]',
    { reason: { type: 'string' } },
    (v) => (v.reason !== undefined ? { reason: v.reason } : {}),
  ),
  control('retry', 'start a rolled-back or aborted release again', 'sluice retry SERVICE', {}, () => ({})),
  control(
    'undo',
    'abort the release in progress, or release the previous (or a named) revision again',
    'sluice undo SERVICE [--to-revision N]',
    { 'to-revision': { type: 'string' } },
    (v) => {
      const to = v['to-revision'];
      if (to === undefined) return {};
      if (!/^\d+$/.test(String(to)))
        throw new UsageError(`--to-revision "${to}" is not a revision number; see sluice status SERVICE -o json`);
      return { toRevision: String(to) };
    },
  ),
];

export const deleteCommand: CommandDef = {
  name: 'delete',
  summary: "stop a service's instances and data plane and forget it (its history stays)",
  usage: 'sluice delete SERVICE',
  args: ['service'],
  async run({ positionals, client, out }) {
    await client().delete(`/api/services/${positionals[0]}`);
    out(`${positionals[0]}: deleted`);
    return 0;
  },
};
