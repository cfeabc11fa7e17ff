/**
 * Hosts on this machine for fleet tests: Linux network namespaces (`ip netns`), each joined by a
 * veth link. Needs root. Everything made is undone by a Teardown, in reverse order (processes
 * first, then links and namespaces), even when the test fails.
 */
import { execFileSync } from 'node:child_process';

/** `ip …`, its errors with ip's own message. */
export const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

/** `ip …`, and no error when what it removes is already gone (teardown). */
const ipQuietly = (...args: string[]): void => {
  try {
    ip(...args);
  } catch {
    // already gone
  }
};

/** A short per-run tag for interface and namespace names (a link name holds at most 15 characters). */
export const netnsTag = String(process.pid % 100_000);

/**
 * A skip reason when namespaces cannot be made here (not root, no `ip netns`), else false. Under
 * SLUICE_TEST_SERVERS=required (CI) never a skip: there the test runs and fails saying why.
 */
export function withoutNetns(): string | false {
  if (process.env.SLUICE_TEST_SERVERS === 'required') return false;
  if (process.getuid?.() !== 0) return 'needs root for ip netns';
  const probe = `sluice-probe-${netnsTag}`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
    return false;
  } catch (err) {
    return `ip netns does not work here: ${(err as Error).message}`;
  }
}

/** Throws, saying what to do, when this process cannot make namespaces (under SLUICE_TEST_SERVERS=required the tests run and fail here). */
export function assertNetnsUsable(): void {
  if (process.getuid?.() !== 0)
    throw new Error(
      'this fleet test needs root to make network namespaces (ip netns); run it as root, or without SLUICE_TEST_SERVERS=required to skip it',
    );
}

/** What a test made, undone in reverse order (the last made first), each step whatever the others did. */
export class Teardown {
  readonly #steps: (() => unknown)[] = [];

  add(step: () => unknown): void {
    this.#steps.push(step);
  }

  /** Runs every step, last added first; returns the errors, each with its step's position. */
  async run(): Promise<string[]> {
    const errors: string[] = [];
    while (this.#steps.length > 0) {
      const step = this.#steps.pop()!;
      try {
        await step();
      } catch (err) {
        errors.push(`teardown step ${this.#steps.length + 1}: ${(err as Error).message}`);
      }
    }
    return errors;
  }
}

export interface NetnsHost {
  /** The namespace's name (`ip netns exec <name> …`). */
  name: string;
  /** Its address on the LAN. */
  addr: string;
  /** Drop every packet between this host and `other` (blackhole routes on both sides); `heal` undoes it. */
  cut(other: NetnsHost): void;
  heal(other: NetnsHost): void;
}

/**
 * One LAN: a bridge in the root namespace at `<prefix>.1/24` (the root namespace is a host on it
 * too) and `host(name, n)` namespaces at `<prefix>.<n>`, each on its own veth port of the bridge.
 * A bridge forwards without the root namespace routing (ip_forward stays as it is).
 */
export function netnsLan(
  down: Teardown,
  prefix: string,
): { root: string; host: (name: string, n: number) => NetnsHost } {
  assertNetnsUsable();
  const bridge = `sb${netnsTag}`;
  const root = `${prefix}.1`;
  ip('link', 'add', bridge, 'type', 'bridge');
  down.add(() => ipQuietly('link', 'del', bridge));
  ip('addr', 'add', `${root}/24`, 'dev', bridge);
  ip('link', 'set', bridge, 'up');
  const host = (label: string, n: number): NetnsHost => {
    const name = `sl${netnsTag}${label}`;
    const port = `sv${netnsTag}n${n}`;
    const peer = `sp${netnsTag}n${n}`;
    const addr = `${prefix}.${n}`;
    ip('netns', 'add', name);
    down.add(() => ipQuietly('netns', 'del', name));
    ip('link', 'add', port, 'type', 'veth', 'peer', 'name', peer);
    down.add(() => ipQuietly('link', 'del', port));
    ip('link', 'set', peer, 'netns', name);
    ip('link', 'set', port, 'master', bridge);
    ip('link', 'set', port, 'up');
    const inNs = (...args: string[]) => ip('netns', 'exec', name, 'ip', ...args);
    inNs('addr', 'add', `${addr}/24`, 'dev', peer);
    inNs('link', 'set', peer, 'up');
    inNs('link', 'set', 'lo', 'up');
    const h: NetnsHost = {
      name,
      addr,
      cut(other) {
        ip('netns', 'exec', name, 'ip', 'route', 'add', 'blackhole', `${other.addr}/32`);
        ip('netns', 'exec', other.name, 'ip', 'route', 'add', 'blackhole', `${addr}/32`);
      },
      heal(other) {
        ipQuietly('netns', 'exec', name, 'ip', 'route', 'del', 'blackhole', `${other.addr}/32`);
        ipQuietly('netns', 'exec', other.name, 'ip', 'route', 'del', 'blackhole', `${addr}/32`);
      },
    };
    return h;
  };
  return { root, host };
}
