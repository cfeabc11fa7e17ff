import { GATES } from '../../core/plan/types.ts';
import { type CommandDef, UsageError } from '../command.ts';
import { planCall } from './release.ts';

export const overrideCommand: CommandDef = {
  name: 'override',
  summary: 'let a release through a gate that holds it, with a reason (approver, not its author); opens a post-mortem',
  usage: `sluice override SERVICE --gate ${GATES.filter((g) => g !== 'contract').join('|')} --reason TEXT [--env ENVIRONMENT]`,
  options: { gate: { type: 'string' }, reason: { type: 'string' }, env: { type: 'string' } },
  args: ['service'],
  async run({ positionals, values, client, out, json }) {
    if (values.gate === undefined || values.reason === undefined)
      throw new UsageError('--gate NAME and --reason TEXT are required');
    const body = {
      gate: values.gate,
      reason: values.reason,
      ...(values.env !== undefined && { environment: values.env }),
    };
    return planCall(() => client().post(`/api/services/${positionals[0]}/override`, body), out, json);
  },
};
