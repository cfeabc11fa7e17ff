import { PHASES, type Phase } from '../../core/types.ts';
import type { ServiceStatus } from '../../views/index.ts';
import { type CommandDef, EXIT, parseDurationFlag, UsageError } from '../command.ts';

/** Phases after which a wait for another phase can only fail: the release is over. */
const FINAL: Phase[] = ['Healthy', 'RolledBack', 'Aborted', 'Degraded'];

export const waitCommand: CommandDef = {
  name: 'wait',
  summary: 'wait for a phase; exit 0 when reached, 1 when the release ended otherwise, 4 on timeout',
  usage: 'sluice wait SERVICE --for healthy|rolledback|aborted|paused|degraded|progressing|verifying [--timeout 5m]',
  options: { for: { type: 'string' }, timeout: { type: 'string', default: '5m' } },
  args: ['service'],
  async run({ positionals, values, client, out, json }) {
    const wanted = PHASES.find((p) => p.toLowerCase() === String(values.for ?? '').toLowerCase());
    if (wanted === undefined)
      throw new UsageError(
        `--for "${values.for ?? ''}" is not a phase; valid: ${PHASES.map((p) => p.toLowerCase()).join(', ')}`,
      );
    const until = Date.now() + parseDurationFlag('timeout', String(values.timeout));
    const c = client();
    for (;;) {
      const s = await c.get<ServiceStatus>(`/api/services/${positionals[0]}`);
      const releaseOver = s.release === null || !['Starting', 'Progressing', 'Paused'].includes(s.release.status);
      if (s.phase === wanted && (releaseOver || !FINAL.includes(wanted))) {
        out(json ? JSON.stringify(s, null, 2) : `${s.service}: ${s.phase}`);
        return EXIT.ok;
      }
      if (releaseOver && FINAL.includes(s.phase) && s.phase !== wanted) {
        out(
          json
            ? JSON.stringify(s, null, 2)
            : `${s.service}: ${s.phase}, not ${wanted}${s.lastRollback ? ` (rollback: ${s.lastRollback.reason})` : ''}`,
        );
        return EXIT.failed;
      }
      if (Date.now() > until) {
        out(`${s.service}: still ${s.phase} after ${values.timeout}; wanted ${wanted}`);
        return 4;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  },
};
