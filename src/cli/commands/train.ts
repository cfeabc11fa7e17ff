import type { TrainView } from '../../views/index.ts';
import { type CommandDef, EXIT, UsageError } from '../command.ts';

const ACTIONS = ['status', 'abort', 'retry', 'approve', 'reject'] as const;

/** Each service, what it waits on or where it got to; then the run's timeline. */
function format(t: TrainView): string {
  const state = new Map(t.services.map((s) => [s.name, s.status]));
  const rows = t.services.map((s) => {
    const waitingOn = s.after.filter((a) => state.get(a) !== 'done');
    const detail = s.status === 'waiting' && waitingOn.length > 0 ? `waiting on ${waitingOn.join(', ')}` : s.detail;
    return [s.name, s.version, s.from?.version ?? '-', s.status, detail];
  });
  const head = ['SERVICE', 'VERSION', 'FROM', 'STATUS', 'DETAIL'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [
    `train ${t.name} run ${t.run}: ${t.status}${t.detail ? ` — ${t.detail}` : ''} (maxParallel ${t.maxParallel}, onFailure ${t.onFailure})`,
    ...(t.approval === null
      ? []
      : [
          `approvals: ${t.approval.given.length} of ${t.approval.required} (${t.approval.role})${t.approval.given.length > 0 ? `: ${t.approval.given.map((a) => `${a.by}${a.comment ? ` ("${a.comment}")` : ''}`).join(', ')}` : ''}`,
        ]),
    ...(t.window?.waiting == null
      ? []
      : [
          `window (policy ${t.window.policy}): ${t.window.waiting.services.join(', ')} wait: ${t.window.waiting.reason}${t.window.waiting.until === null ? '' : `, until ${t.window.waiting.until}`}`,
        ]),
    line(head),
    ...rows.map(line),
    ...(t.timeline === undefined ? [] : ['', ...t.timeline.map((e) => `${e.at.slice(11, 23)}  ${e.text}`)]),
  ].join('\n');
}

const running = (t: TrainView) =>
  t.status === 'WaitingForApproval' || t.status === 'Running' || t.status === 'RollingBack';

export const trainCommand: CommandDef = {
  name: 'train',
  summary:
    'a release train: status (each service, the timeline), abort, retry; approve or reject a run that asks for approvals (spec.approvals)',
  usage: 'sluice train status|abort|retry|approve|reject NAME [--comment TEXT] [--watch]',
  options: { watch: { type: 'boolean' }, comment: { type: 'string' } },
  args: ['action', 'name'],
  async run({ positionals, values, client, out, json }) {
    const [action, name] = positionals as [string, string];
    if (!(ACTIONS as readonly string[]).includes(action))
      throw new UsageError(`unknown train action "${action}"; valid: ${ACTIONS.join(', ')}`);
    const comment = values.comment as string | undefined;
    if (comment !== undefined && action !== 'approve' && action !== 'reject')
      throw new UsageError(`--comment goes with approve or reject, not ${action}`);
    if (action === 'reject' && (comment === undefined || comment.trim() === ''))
      throw new UsageError(`say why the run is rejected: sluice train reject ${name} --comment "…"`);
    if (action !== 'status') {
      await client().post(`/api/trains/${name}/${action}`, comment === undefined ? {} : { comment });
    }
    let t = await client().get<TrainView>(`/api/trains/${name}`);
    out(json ? JSON.stringify(t, null, 2) : format(t));
    while (values.watch === true && running(t)) {
      await new Promise((r) => setTimeout(r, 1000));
      t = await client().get<TrainView>(`/api/trains/${name}`);
      out(json ? JSON.stringify(t) : `\n${format(t)}`);
    }
    return t.status === 'Failed' || t.status === 'RolledBack' || t.status === 'Rejected' ? EXIT.failed : EXIT.ok;
  },
};
