/**
 * The closing summary: what each act's traffic got (from the client's samples), how fast the
 * bad release was taken out (as the server recorded it and as users saw it), and the commands
 * to do the same by hand.
 */
import type { Sample } from '../../test/support/load.ts';
import type { RollbackView } from './api.ts';
import type { Narrator } from './narrator.ts';
import { seconds } from './narrator.ts';
import { actFigures, exposureTo, type Act } from './traffic.ts';

export function printSummary(
  n: Narrator,
  samples: Sample[],
  acts: Act[],
  rollback: RollbackView,
  badVersion: string,
): void {
  n.act('Summary');
  const rows = actFigures(samples, acts);
  const cells = rows.map((r) => {
    const versions = Object.entries(r.byVersion);
    const failed = versions.reduce((sum, [, v]) => sum + v.failed, 0);
    return [
      r.act,
      String(r.requests),
      versions.map(([version, v]) => `${version} ${v.served + v.failed}`).join(' · '),
      failed === 0 ? '0' : failedBy(versions),
    ];
  });
  const header = ['act', 'requests', 'answered by', 'failed'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) => `  ${c.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('   ')}`.trimEnd();
  n.block([line(header), ...cells.map(line)]);

  const bad = exposureTo(badVersion, samples);
  const otherFailures = rows.reduce(
    (sum, r) => sum + Object.entries(r.byVersion).reduce((s, [v, f]) => s + (v === badVersion ? 0 : f.failed), 0),
    0,
  );
  const clientExposureMs =
    bad.firstFailureAt !== null && bad.lastAnsweredAt !== null ? bad.lastAnsweredAt - bad.firstFailureAt : null;
  const detected = Date.parse(rollback.detectedAt);
  const stopped = rollback.canaryStoppedAt === null ? null : Date.parse(rollback.canaryStoppedAt) - detected;

  n.block([
    '',
    `Automatic rollback of ${badVersion} (rule ${rollback.trigger}):`,
    `  server side: detected → traffic reverted in ${rollback.revertMs ?? 'n/a'} ms (revertMs); canary stopped ${stopped ?? 'n/a'} ms after detection`,
    `  client side: first failed ${badVersion} response → last response from ${badVersion}: ${clientExposureMs === null ? 'n/a' : `${Math.round(clientExposureMs)} ms`}`,
    `               (it includes the time the contract took to gather ${rollback.verdicts[0]?.canarySamples ?? 'enough'} canary requests to judge)`,
    `  ${badVersion} took traffic for ${bad.firstAnsweredAt === null || bad.lastAnsweredAt === null ? 'n/a' : seconds(bad.lastAnsweredAt - bad.firstAnsweredAt)} and answered ${bad.answered} requests, ${bad.failed} of them with an error`,
    `  users who saw an error from ${badVersion}: ${bad.usersWithError} of the ${bad.usersServed} signed-in users it served` +
      (bad.anonymousErrors > 0
        ? `, plus ${bad.anonymousErrors} anonymous request${bad.anonymousErrors === 1 ? '' : 's'}`
        : ''),
    `  every other request was answered without error: ${otherFailures === 0 ? 'yes' : `no, ${otherFailures} failed`}`,
    `  demo total: ${samples.length} requests in ${seconds(lastEnd(samples) - (acts[0]?.from ?? 0))}`,
  ]);
}

/**
 * The commands to do the demo by hand, in order, each with the terminal it runs in. The token
 * step comes before the first apply: every API call needs a token (test/demo-instructions.test.ts
 * runs these lines as written).
 */
export const DO_IT_YOURSELF: readonly { command: string; note: string }[] = [
  { command: 'npx sluice server --data-dir .sluice', note: 'terminal 1: API on http://127.0.0.1:7070' },
  {
    command: 'export SLUICE_TOKEN=$(cat .sluice/admin.token)',
    note: 'terminal 2: the admin token made on first start',
  },
  { command: 'npx sluice apply -f examples/checkout/v1.yaml', note: 'terminal 2: checkout on http://127.0.0.1:8080/' },
  {
    command: 'while :; do curl -s -o /dev/null 127.0.0.1:8080/; done',
    note: 'terminal 3: traffic for the contract to judge',
  },
  { command: 'npx sluice apply -f examples/checkout/v2-errors.yaml', note: 'terminal 2' },
  { command: 'npx sluice status checkout --watch', note: 'watch it roll back' },
  { command: 'npx sluice delete checkout', note: 'stops its instances and proxy' },
];

export function printDoItYourself(n: Narrator): void {
  const width = Math.max(...DO_IT_YOURSELF.map((line) => line.command.length));
  n.block([
    '',
    'Do it yourself, from the repository root:',
    ...DO_IT_YOURSELF.map(({ command, note }) => `  ${command.padEnd(width)} # ${note}`),
  ]);
}

/** "4, all from 2.0.0" or "5 (4 from 2.0.0, 1 from no answer)". */
function failedBy(versions: [string, { failed: number }][]): string {
  const from = versions.filter(([, v]) => v.failed > 0);
  const total = from.reduce((sum, [, v]) => sum + v.failed, 0);
  if (from.length === 1 && from[0]) return `${total}, all from ${from[0][0]}`;
  return `${total} (${from.map(([version, v]) => `${v.failed} from ${version}`).join(', ')})`;
}

const lastEnd = (samples: Sample[]) => samples.reduce((max, s) => Math.max(max, s.end), 0);
