/**
 * Replicated: what runs under a lease besides services' releases — logs such as a train's
 * (`_train:<name>`), each run by one replica at a time — and the commands other replicas send on
 * (replica-tail.ts) that a capability outside the engine carries out (a train's `train`).
 */
import type { ForwardedArgs } from './replica-tail.ts';

/** Carries out a command another replica sent on for `target` (a log or a service this replica runs). */
export type ForwardedHandler = (target: string, args: ForwardedArgs, actor: string) => Promise<void>;

export class LeasedLogs {
  readonly #wanted = new Map<string, () => Iterable<string>>();
  readonly #handlers = new Map<string, ForwardedHandler>();

  /** Logs named `<prefix>…`; `wanted` names those that need a runner now (read every lease round). */
  add(prefix: string, wanted: () => Iterable<string>): void {
    this.#wanted.set(prefix, wanted);
  }

  handle(command: string, carryOut: ForwardedHandler): void {
    this.#handlers.set(command, carryOut);
  }

  /** Every log wanted now, by every prefix. */
  names(): string[] {
    return [...this.#wanted.values()].flatMap((wanted) => [...wanted()]);
  }

  isLog(name: string): boolean {
    return [...this.#wanted.keys()].some((prefix) => name.startsWith(prefix));
  }

  handler(command: string): ForwardedHandler | undefined {
    return this.#handlers.get(command);
  }
}
