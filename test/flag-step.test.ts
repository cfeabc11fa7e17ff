/**
 * A flag as a release step: `setFlag: { flag, percent }` exposes the flag's rule when the release
 * reaches the step (an event by the controller naming the release and step), and a step naming
 * a flag that does not exist is refused at apply.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deployedServer, serviceSpec } from './support/sluice.ts';

const FLAG = `apiVersion: sluice.dev/v1alpha1
kind: FeatureFlag
metadata: { name: new-checkout }
spec:
  environments:
    production:
      rules:
        - { name: ramp, rollout: { percent: 5 }, serve: "on" }
`;

test('a setFlag step exposes the flag when the release reaches it', { timeout: 120_000 }, async (t) => {
  const { server, listenPort } = await deployedServer(t, { instances: 1 });
  await server.apply(FLAG);
  const unknown = await server.api<{ error: { code: string; message: string } }>('POST', '/api/apply', {
    spec: serviceSpec({
      version: '2.0.0',
      listenPort,
      instances: 1,
      steps: ['setFlag: { flag: old-checkout, percent: 30 }'],
    }),
    file: 'release.yaml',
  });
  assert.equal(unknown.status, 400);
  assert.match(
    unknown.body.error.message,
    /release\.yaml: setFlag: no flag "old-checkout"; apply its kind: FeatureFlag first \(flags: new-checkout\)/,
  );

  const declares = (spec: string, flags: string) =>
    spec.replace('  version: "2.0.0"\n', `  version: "2.0.0"\n  flags: [${flags}]\n`);
  const undeclared = await server.api<{ error: { message: string } }>('POST', '/api/apply', {
    spec: declares(serviceSpec({ version: '2.0.0', listenPort, instances: 1 }), 'nope'),
    file: 'release.yaml',
  });
  assert.match(undeclared.body.error.message, /release\.yaml: spec\.flags: no flag "nope"/);
  await server.apply(
    declares(
      serviceSpec({
        version: '2.0.0',
        listenPort,
        instances: 1,
        steps: ['setFlag: { flag: new-checkout, percent: 30 }', 'setWeight: 50', 'pause: {}'],
      }),
      'new-checkout',
    ),
  );
  // The first step, before the canary takes traffic: the flag's rule goes to 30%.
  const percent = async () =>
    (
      await server.api<{ environments: { production: { rules: { rollout: { percent: number } }[] } } }>(
        'GET',
        '/api/flags/new-checkout',
      )
    ).body.environments.production.rules[0]!.rollout.percent;
  const until = Date.now() + 30_000;
  while ((await percent()) !== 30) {
    assert.ok(Date.now() < until, `the flag is at ${await percent()}% after 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const status = await server.status();
  assert.ok((status.step?.index ?? 0) >= 1, 'the release moved past the setFlag step');
  const events = await server.api<{ events: { type: string; actor: string; reason?: string }[] }>(
    'GET',
    '/api/flags/new-checkout/events',
  );
  const set = events.body.events.find((e) => e.type === 'flag.percentSet');
  assert.equal(set?.actor, 'sluice-controller');
  assert.match(set?.reason ?? '', /step 1: setFlag 30%$/);
  const adoption = await server.api<{
    releases: number;
    behindFlags: number;
    share: number;
    services: { flags: string[] }[];
  }>('GET', '/api/flags/adoption');
  assert.equal(adoption.body.behindFlags, 1, JSON.stringify(adoption.body));
  assert.equal(adoption.body.share, 1 / adoption.body.releases);
  assert.deepEqual(adoption.body.services[0]!.flags, ['new-checkout']);
});
