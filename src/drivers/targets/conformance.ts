/**
 * The conformance suite every target driver runs. A driver's test supplies a fixture; cases it
 * cannot honour are declared in `skip` with the reason, and reported as skipped.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { Instance } from '../../core/types.ts';
import type { Target, TargetRevision } from './types.ts';
import { bodyOf, httpGet } from './fixtures/http-get.ts';
import { probeUrl } from './readiness.ts';

export const TARGET_CONTRACT_CASES = {
  startReady: 'start returns ready instances that answer HTTP',
  stopEnds: 'stop makes the instances stop answering',
  neverReady: 'start of a revision that never becomes ready rejects within the readiness timeout, clearly',
  adoptUnchanged: 'adopt of running instances (after a controller restart) returns them unchanged',
  sideBySide: 'two revisions run side by side',
  instanceFaults:
    'faultInstance: stop holds an instance silent until resume; restart brings it back on its URL; kill ends it',
} as const;
export type TargetContractCase = keyof typeof TARGET_CONTRACT_CASES;

export interface TargetFixture<C> {
  /** The service name the target runs under; errors must name it. */
  service: string;
  /** A new driver instance for the service; a second one plays a restarted controller. */
  create(): Target<C>;
  /** A revision whose instances become ready and answer `GET /` with `version`. */
  revision(key: string, version: string): Promise<TargetRevision<C>>;
  /** A revision that never passes readiness, and the readiness timeout it is configured with. */
  neverReady(key: string): Promise<{ rev: TargetRevision<C>; timeoutMs: number }>;
  /** Cases this target cannot honour, with the reason. */
  skip?: Partial<Record<TargetContractCase, string>>;
  /** Releases what the fixture made (servers, temp dirs, stray processes). */
  cleanup(): Promise<void>;
}

const CASE_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 20_000;

export function targetConformance<C>(name: string, makeFixture: () => Promise<TargetFixture<C>>): void {
  /** Runs one case with a fresh fixture; everything started through `run` is stopped afterwards. */
  function contractCase(id: TargetContractCase, body: (fixture: TargetFixture<C>, run: Runner<C>) => Promise<void>) {
    test(TARGET_CONTRACT_CASES[id], { timeout: CASE_TIMEOUT_MS }, async (t: TestContext) => {
      const fixture = await makeFixture();
      const runner = new Runner(fixture);
      t.after(async () => {
        await runner.stopAll();
        await fixture.cleanup();
      });
      const reason = fixture.skip?.[id];
      if (reason !== undefined) {
        t.skip(reason);
        return;
      }
      await body(fixture, runner);
    });
  }

  describe(`target contract: ${name}`, () => {
    contractCase('startReady', async (fixture, run) => {
      const rev = await fixture.revision('1', 'v1');
      const instances = await run.start(rev);
      assert.ok(instances.length >= 1, 'at least one instance');
      assert.equal(new Set(instances.map((i) => i.id)).size, instances.length, 'instance ids are unique');
      for (const instance of instances) {
        assert.ok(instance.id.startsWith('1-'), `instance id ${instance.id} starts with the revision key`);
        assert.equal(await bodyOf(probeUrl(instance.url, '/')), 'v1');
      }
    });

    contractCase('stopEnds', async (fixture, run) => {
      const rev = await fixture.revision('1', 'v1');
      const instances = await run.start(rev);
      await run.target.stop(rev, instances);
      for (const instance of instances) {
        const result = await httpGet(probeUrl(instance.url, '/'));
        assert.ok('error' in result, `${instance.url} still answers after stop: ${JSON.stringify(result)}`);
      }
      await run.target.stop(rev, instances); // idempotent
    });

    contractCase('neverReady', async (fixture, run) => {
      const { rev, timeoutMs } = await fixture.neverReady('9');
      const began = Date.now();
      await assert.rejects(run.target.start(rev, AbortSignal.timeout(START_TIMEOUT_MS)), (err: Error) => {
        assert.match(err.message, new RegExp(`"${fixture.service}"`), 'names the service');
        assert.match(err.message, /revision 9\b/, 'names the revision');
        assert.match(err.message, /ready/, 'says what was not reached');
        return true;
      });
      const elapsed = Date.now() - began;
      assert.ok(elapsed >= timeoutMs * 0.9, `waited the readiness timeout (${elapsed}ms of ${timeoutMs}ms)`);
      assert.ok(elapsed < timeoutMs + 5_000, `rejected soon after the readiness timeout (${elapsed}ms)`);
    });

    contractCase('adoptUnchanged', async (fixture, run) => {
      const rev = await fixture.revision('1', 'v1');
      const instances = await run.start(rev);
      // The first controller goes away; a new one re-attaches and becomes the owner.
      await run.target.close();
      run.target = fixture.create();
      const adopted = await run.target.adopt(rev, instances);
      assert.deepEqual(adopted, instances);
      for (const instance of adopted) assert.equal(await bodyOf(probeUrl(instance.url, '/')), 'v1');
    });

    contractCase('sideBySide', async (fixture, run) => {
      const [one, two] = await Promise.all([fixture.revision('1', 'v1'), fixture.revision('2', 'v2')]);
      const [first, second] = await Promise.all([run.start(one), run.start(two)]);
      const urls = new Set([...first, ...second].map((i) => i.url));
      assert.equal(urls.size, first.length + second.length, 'each instance has its own URL');
      for (const instance of first) assert.equal(await bodyOf(probeUrl(instance.url, '/')), 'v1');
      for (const instance of second) assert.equal(await bodyOf(probeUrl(instance.url, '/')), 'v2');
      await run.target.stop(one, first);
      for (const instance of second)
        assert.equal(await bodyOf(probeUrl(instance.url, '/')), 'v2', 'stopping one leaves the other');
    });

    contractCase('instanceFaults', async (fixture, run) => {
      const fault = run.target.faultInstance?.bind(run.target);
      assert.ok(fault, 'a target that cannot fault its instances declares it in skip, with the reason');
      const rev = await fixture.revision('1', 'v1');
      const [instance] = await run.start(rev);
      const url = probeUrl(instance!.url, '/');
      await fault(rev, instance!, 'stop');
      const silent = await httpGet(url, 500);
      assert.ok('error' in silent, `a stopped instance answered: ${JSON.stringify(silent)}`);
      await fault(rev, instance!, 'resume');
      assert.equal(await bodyOf(url), 'v1', 'a resumed instance answers again');
      // A stop with a TTL ends by itself: no resume is sent (as when the controller died).
      const stoppedAt = Date.now();
      await fault(rev, instance!, 'stop', { ttlMs: 400 });
      assert.ok('error' in (await httpGet(url, 200)), 'stopped');
      assert.equal(await bodyOf(url), 'v1', 'answers again once its TTL ran out, with no resume sent');
      const back = Date.now() - stoppedAt;
      assert.ok(back >= 400 && back < 2400, `resumed by itself ${back} ms after the stop (TTL 400 ms)`);
      await fault(rev, instance!, 'restart');
      assert.equal(await bodyOf(url), 'v1', 'a restarted instance answers on its URL once restart resolves');
      await fault(rev, instance!, 'kill');
      // The target may restart a crashed instance (after a backoff): its answers stop at once.
      const killed = await httpGet(url, 500);
      assert.ok('error' in killed, `a killed instance answered: ${JSON.stringify(killed)}`);
    });
  });
}

/** Starts revisions on the fixture's current target and stops them all at the end. */
class Runner<C> {
  target: Target<C>;
  readonly #started: Array<{ rev: TargetRevision<C>; instances: Instance[] }> = [];

  constructor(fixture: TargetFixture<C>) {
    this.target = fixture.create();
  }

  async start(rev: TargetRevision<C>): Promise<Instance[]> {
    const instances = await this.target.start(rev, AbortSignal.timeout(START_TIMEOUT_MS));
    this.#started.push({ rev, instances });
    return instances;
  }

  async stopAll(): Promise<void> {
    for (const { rev, instances } of this.#started) await this.target.stop(rev, instances);
    await this.target.close();
  }
}
