/**
 * `sluice import argo` as a person runs it: the real CLI on Argo Rollouts' published examples
 * (test/fixtures/argo), its output checked by the real `sluice lint`, its report on stderr; then a
 * real release of an imported Rollout whose web metric (an Argo AnalysisTemplate) rolls back a bad
 * canary and passes a good one.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CLI, freePort, ROOT, SERVICE_SCRIPT, SluiceServer } from './support/sluice.ts';

const FIXTURES = join(ROOT, 'test/fixtures/argo');
const dir = mkdtempSync(join(tmpdir(), 'sluice-import-argo-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function sluice(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: FIXTURES, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * The examples the issue names (canary, blue-green, analysis step, background analysis, baseline vs
 * canary) and the two with metrics that carry over, with the templates each references and what its
 * import must hold. src/spec/argo/import-argo.test.ts runs every fixture in-process.
 */
const EXAMPLES: { files: string[]; holds: RegExp[] }[] = [
  {
    files: ['rollout-canary.yaml'],
    holds: [/- setWeight: 20\n\s+- pause: \{\}\n\s+- setWeight: 40\n\s+- pause:\n\s+duration: 40s/],
  },
  { files: ['rollout-bluegreen.yaml'], holds: [/blueGreen:\n\s+previewHeader:/, /autoPromotion: false/] },
  {
    files: ['rollout-analysis-step.yaml', 'analysis-templates.yaml', 'cluster-analysis-templates.yaml'],
    holds: [/- setWeight: 25\n\s+- pause: \{\}/],
  },
  { files: ['rollout-background-analysis.yaml', 'analysis-templates.yaml'], holds: [/- setWeight: 25/] },
  { files: ['rollout-baseline-vs-canary.yaml'], holds: [/steps:\n\s+- pause: \{\}/] },
  {
    files: ['docs-bluegreen-analysis.yaml'],
    holds: [
      /provider: prometheus/,
      /prePromotionAnalysis: true/,
      /postPromotionAnalysis: 10m/,
      /scaleDownDelay: 30s/,
      /below: 0.95/,
    ],
  },
  { files: ['web-analysis.yaml'], holds: [/provider: web/, /\| \$\.data\.errorRate/] },
];

test('the published examples import, and sluice lint passes what was printed', { timeout: 180_000 }, async () => {
  const printed: string[] = [];
  for (const [i, { files, holds }] of EXAMPLES.entries()) {
    const r = await sluice(
      'import',
      'argo',
      ...files.flatMap((f) => ['-f', f]),
      '--target-command',
      'node server.js --flag "two words"',
    );
    assert.equal(r.code, 0, `${files.join(' ')}: ${r.stderr}`);
    for (const re of holds) assert.match(r.stdout, re, files.join(' '));
    assert.match(r.stdout, /command:\n\s+- node\n\s+- server.js\n\s+- --flag\n\s+- two words/);
    // The report: one line per note, each at file:line:col of a file given.
    const lines = r.stderr.trim().split('\n').filter(Boolean);
    assert.ok(lines.length > 0, files.join(' '));
    for (const line of lines)
      assert.match(
        line,
        new RegExp(
          `^(${files.map((f) => f.replace('.', '\\.')).join('|')}):\\d+:\\d+: \\S.*: (not carried over|changed|added): `,
        ),
        line,
      );
    const out = join(dir, `imported-${i}.yaml`);
    writeFileSync(out, r.stdout);
    printed.push(out);
  }
  const lint = await sluice('lint', ...printed.flatMap((f) => ['-f', f]));
  assert.equal(lint.code, 0, `${lint.stdout}${lint.stderr}`);
  assert.equal(lint.stdout.match(/: ok \(/g)?.length, EXAMPLES.length, lint.stdout);
});

test('-o json prints the same spec as JSON, which lints too', async () => {
  const r = await sluice(
    'import',
    'argo',
    '-f',
    'docs-bluegreen-analysis.yaml',
    '--target-command',
    'node server.js',
    '--version',
    '7.1.0',
    '--listen',
    '127.0.0.1:9099',
    '-o',
    'json',
  );
  assert.equal(r.code, 0, r.stderr);
  const spec = JSON.parse(r.stdout);
  assert.equal(spec.spec.version, '7.1.0');
  assert.deepEqual(spec.spec.router, { driver: 'builtin', listen: '127.0.0.1:9099' });
  const out = join(dir, 'imported.json');
  writeFileSync(out, r.stdout);
  assert.equal((await sluice('lint', '-f', out)).code, 0);
});

test('bad input: a kind it does not read, a missing template, bad flags', async () => {
  const experiment = join(dir, 'experiment.yaml');
  writeFileSync(experiment, 'apiVersion: argoproj.io/v1alpha1\nkind: Experiment\nmetadata:\n  name: e\n');
  const kind = await sluice('import', 'argo', '-f', experiment, '--target-command', 'x');
  assert.equal(kind.code, 1);
  assert.equal(
    kind.stderr.trim(),
    `${experiment}:2:1: kind: kind Experiment (argoproj.io/v1alpha1) is not read by sluice import argo; it reads Rollout, AnalysisTemplate, ClusterAnalysisTemplate (apiVersion argoproj.io/v1alpha1)`,
  );
  const missing = await sluice('import', 'argo', '-f', 'rollout-analysis-step.yaml', '--target-command', 'x');
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr,
    /^rollout-analysis-step\.yaml:37:13: spec\.strategy\.canary\.steps\[1\]\.analysis\.templates\[0\]\.templateName: AnalysisTemplate random-fail is not in the files given; pass it with -f/m,
  );
  const noCommand = await sluice('import', 'argo', '-f', 'rollout-canary.yaml');
  assert.equal(noCommand.code, 2);
  assert.match(noCommand.stderr, /give --target-command/);
  const quote = await sluice('import', 'argo', '-f', 'rollout-canary.yaml', '--target-command', 'node "server.js');
  assert.match(quote.stderr, /--target-command: the " opened is never closed/);
  const source = await sluice('import', 'flagger', '-f', 'rollout-canary.yaml', '--target-command', 'x');
  assert.equal(source.code, 2);
  assert.match(source.stderr, /cannot import "flagger"; valid: argo/);
  const listen = await sluice(
    'import',
    'argo',
    '-f',
    'rollout-canary.yaml',
    '--target-command',
    'x',
    '--listen',
    '8080',
  );
  assert.equal(listen.code, 1);
  assert.match(listen.stderr, /the imported spec does not pass sluice lint:\n.*spec\.router\.listen: /);
  const unreadable = await sluice('import', 'argo', '-f', 'nope.yaml', '--target-command', 'x');
  assert.match(unreadable.stderr, /cannot read nope\.yaml: ENOENT/);
});

test(
  'an imported Rollout releases for real: its web metric rolls back a bad canary and passes a good one',
  { timeout: 180_000 },
  async (t) => {
    // The metrics API the AnalysisTemplate asks: each version's error rate, by the pod hash Argo would pass.
    const asked: string[] = [];
    const api = createServer((req, res) => {
      const hash = new URL(req.url ?? '/', 'http://x').searchParams.get('hash') ?? '';
      asked.push(hash);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: { errorRate: hash === '2.0.0' ? '0.10' : '0.001' } }));
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    t.after(() => api.close());
    const apiPort = (api.address() as { port: number }).port;
    const listenPort = await freePort();

    const rollout = (image: string) => `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: checkout
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: app
        image: registry.example.com/checkout:${image}
  strategy:
    canary:
      steps:
      - setWeight: 30
      - analysis:
          templates:
          - templateName: error-rate
          args:
          - name: hash
            valueFrom: { podTemplateHashValue: Latest }
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: error-rate
spec:
  args:
  - name: hash
  metrics:
  - name: error-rate
    interval: 1s
    count: 2
    failureCondition: asFloat(result) > 0.02
    provider:
      web:
        url: "http://127.0.0.1:${apiPort}/errors?hash={{args.hash}}"
        jsonPath: "{$.data.errorRate}"
`;
    const imported = async (image: string) => {
      const file = join(dir, `checkout-${image}.yaml`);
      writeFileSync(file, rollout(image));
      const r = await sluice(
        'import',
        'argo',
        '-f',
        file,
        '--target-command',
        `node ${SERVICE_SCRIPT}`,
        '--listen',
        `127.0.0.1:${listenPort}`,
      );
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    const server = await SluiceServer.start();
    t.after(() => server.close());
    await server.apply(await imported('1.0.0'));
    await server.waitForPhase('Healthy');

    await server.apply(await imported('2.0.0'));
    const bad = await server.waitForPhase('RolledBack', 60_000);
    assert.equal(bad.lastRollback?.trigger, 'error-rate');
    assert.match(bad.lastRollback?.reason ?? '', /error-rate canary 0\.1\b.*above 0\.02/);
    assert.ok(asked.includes('2.0.0'), `asked: ${asked.slice(0, 5).join(', ')}`);

    await server.apply(await imported('3.0.0'));
    const good = await server.waitFor(
      (s) => s.phase === 'Healthy' && s.stableVersion === '3.0.0',
      'version 3.0.0 Healthy',
      90_000,
    );
    assert.equal(good.lastRollback?.trigger, 'error-rate', "no new rollback: the last one is still 2.0.0's");
  },
);
