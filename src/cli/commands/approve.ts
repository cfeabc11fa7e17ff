import { type CommandDef, UsageError } from '../command.ts';
import { planCall } from './release.ts';

export const approveCommand: CommandDef = {
  name: 'approve',
  summary: 'approve the release waiting to enter an environment (approver; never its author)',
  usage: 'sluice approve SERVICE --env ENVIRONMENT [--comment TEXT]',
  options: { env: { type: 'string' }, comment: { type: 'string' } },
  args: ['service'],
  async run({ positionals, values, client, out, json }) {
    if (values.env === undefined)
      throw new UsageError('--env ENVIRONMENT is required: the environment whose release you approve');
    const body = { environment: values.env, ...(values.comment !== undefined && { comment: values.comment }) };
    return planCall(() => client().post(`/api/services/${positionals[0]}/approve`, body), out, json);
  },
};
