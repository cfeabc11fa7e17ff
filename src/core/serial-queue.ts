/**
 * Runs work one at a time, in the order it was given: each piece starts when the one before it has
 * settled, whether it succeeded or failed. A failure reaches only the caller of that piece.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(work, work);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}
