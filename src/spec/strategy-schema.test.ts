import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { rollbackModeFields, strategySchema } from './strategy-schema.ts';

const issues = (input: unknown) =>
  strategySchema.safeParse(input).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];

test('blueGreen compiles to steps and a plan, with the documented defaults', () => {
  const s = strategySchema.parse({
    blueGreen: {
      previewHeader: { name: 'X-Preview', value: 'yes' },
      prePromotionAnalysis: true,
      autoPromotion: { after: '5m' },
      postPromotionAnalysis: '1m',
    },
    verify: {},
  });
  assert.deepEqual(s.canary.steps, [
    { kind: 'setHeaderRoute', match: { header: 'x-preview', value: 'yes' } },
    { kind: 'analysis' },
    { kind: 'pause', durationMs: 300_000 },
    { kind: 'setWeight', weight: 100 },
    { kind: 'setHeaderRoute', match: null },
    { kind: 'pause', durationMs: 60_000 },
    { kind: 'analysis' },
  ]);
  assert.equal(s.plan.strategy, 'blueGreen');
  assert.equal(s.plan.scaleDownDelayMs, 30_000);
  assert.equal(s.plan.verifyMs, 86_400_000, 'verify: {} is 24h');
});

test('canary steps take setHeaderRoute (and {} to clear it) and smoke gates; probes are normalised', () => {
  const s = strategySchema.parse({
    canary: {
      steps: [
        { setHeaderRoute: { cookie: 'beta', value: '1' } },
        { smoke: { http: { url: 'http://127.0.0.1:1/x' } } },
        { setHeaderRoute: {} },
        { setWeight: 10 },
      ],
    },
    probes: { http: { interval: '500ms' } },
  });
  assert.deepEqual(s.plan.steps.slice(0, 3), [
    { kind: 'setHeaderRoute', match: { cookie: 'beta', value: '1' } },
    { kind: 'smoke', check: { http: { url: 'http://127.0.0.1:1/x', expectStatus: 200 } }, timeoutMs: 30_000 },
    { kind: 'setHeaderRoute', match: null },
  ]);
  assert.deepEqual(s.plan.probes, { path: '/healthz', intervalMs: 500, timeoutMs: 1000, failureThreshold: 3 });
  assert.equal(s.plan.verifyMs, 0);
});

test('says what is wrong, where', () => {
  assert.deepEqual(issues({}), [': strategy needs exactly one of canary: { steps } or blueGreen: { … }']);
  assert.deepEqual(issues({ blueGreen: {} }), [
    'blueGreen: blueGreen needs exactly one of previewListen: host:port or previewHeader: { name, value }',
  ]);
  assert.deepEqual(issues({ blueGreen: { previewListen: '127.0.0.1:9000', prePromotionAnalysis: true } }), [
    'blueGreen.prePromotionAnalysis: prePromotionAnalysis needs previewHeader: requests on a preview listener are not measured per version',
  ]);
  assert.deepEqual(issues({ canary: { steps: [{ smoke: { command: ['x'], http: { url: 'http://a/' } } }] } }), [
    'canary.steps.0.smoke: a smoke step has exactly one of command: [argv…] or http: { url, expectStatus }',
  ]);
  assert.deepEqual(issues({ canary: { steps: [{ setWeight: 5, smoke: { command: ['x'] } }] } }), [
    'canary.steps.0: a step has exactly one of setWeight, pause, setHeaderRoute, smoke, setFlag; got setWeight and smoke',
  ]);
  assert.deepEqual(issues({ canary: { steps: [{ setHeaderRoute: { header: 'x-a' } }] } }), [
    'canary.steps.0.setHeaderRoute: write { header: x-cohort, value: internal } or { cookie: cohort, value: beta }; {} clears the route',
  ]);
});

test('rollback modes: instant by default, gradual ends at 0 and must decrease', () => {
  const modes = z.object(rollbackModeFields);
  assert.deepEqual(modes.parse({}), { onFail: 'rollback', revert: { kind: 'instant' } });
  assert.deepEqual(modes.parse({ onFail: 'pause', revert: { gradual: { steps: [50, 20] } } }), {
    onFail: 'pause',
    revert: { kind: 'gradual', steps: [50, 20, 0], intervalMs: 10_000 },
  });
  const bad = modes.safeParse({ revert: { gradual: { steps: [20, 50] } } });
  assert.match(bad.error?.issues[0]?.message ?? '', /revert steps must decrease, got \[20, 50\]/);
});
