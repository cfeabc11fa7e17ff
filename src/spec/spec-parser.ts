/**
 * Reads submitted spec texts off the control loop: each text is parsed in a worker thread with a
 * deadline, so no text, however built, holds up the loop that reverts a failing canary. A worker
 * past its deadline is terminated (a fresh one takes its place); few workers run at once and few
 * texts wait, so a flood of requests gets "busy" answers rather than the machine's CPU.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { ParseJob } from './parse-worker.ts';
import { SpecError } from './spec-error.ts';
import { SPEC_LIMITS, SpecLimitError, type SpecLimits } from './spec-limits.ts';
import type { SpecText, SpecTextAnswer } from './spec-text.ts';

export interface SpecParserOptions {
  /** A module exporting `driverSchemas()` (the drivers' config schemas), loaded by each worker. */
  schemasModule: URL;
  limits?: SpecLimits;
  /** The longest one text may take to read; then its worker is terminated. */
  deadlineMs?: number;
  /** Texts read at once (one worker each). Default: one core less than the machine has, 1 to 2. */
  workers?: number;
  /** Texts waiting for a worker; past that a text is refused as busy. */
  queue?: number;
}

/** Too many texts are waiting to be read; retrying later can help. */
export class SpecParserBusyError extends Error {
  readonly code = 'BUSY';
  constructor(waiting: number) {
    super(`the server is reading ${waiting} other spec texts; try again in a moment`);
    this.name = 'SpecParserBusyError';
  }
}

export const PARSE_DEADLINE_MS = 2_000;

export class SpecParser {
  readonly limits: SpecLimits;
  readonly deadlineMs: number;
  readonly #schemasModule: string;
  readonly #workers: number;
  readonly #queue: number;
  readonly #idle: ParseWorker[] = [];
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  constructor(o: SpecParserOptions) {
    this.#schemasModule = o.schemasModule.href;
    this.limits = o.limits ?? SPEC_LIMITS;
    this.deadlineMs = o.deadlineMs ?? PARSE_DEADLINE_MS;
    this.#workers = o.workers ?? Math.min(2, Math.max(1, availableParallelism() - 1));
    this.#queue = o.queue ?? 16;
  }

  /**
   * The text read: its documents and validated Services (or policy). Throws SpecError (invalid),
   * SpecLimitError (past a limit or the deadline) or SpecParserBusyError.
   */
  async parse(text: string, file: string): Promise<SpecText> {
    // Checked here too, so an oversized text is not even copied to a worker.
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > this.limits.textBytes)
      throw new SpecLimitError(file, 'textBytes', bytes, this.limits.textBytes, 'the text');
    await this.#slot();
    let answer: SpecTextAnswer;
    try {
      answer = await this.#read({ text, file, limits: this.limits });
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
    if (answer.ok) return answer.text;
    if (answer.kind === 'invalid') throw new SpecError(answer.issues);
    throw new SpecLimitError(answer.file, answer.limit, answer.given, answer.max, '', answer.message);
  }

  /** Start a worker now, so the first text does not wait for one to load. */
  async warm(): Promise<void> {
    if (this.#idle.length === 0 && this.#running === 0) this.#idle.push(await this.#spawn());
  }

  async close(): Promise<void> {
    await Promise.all(this.#idle.splice(0).map(({ worker, answers }) => (answers.close(), worker.terminate())));
  }

  async #slot(): Promise<void> {
    if (this.#running < this.#workers) {
      this.#running++;
      return;
    }
    if (this.#waiting.length >= this.#queue) throw new SpecParserBusyError(this.#waiting.length + this.#running);
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#running++;
  }

  #spawn(): Promise<ParseWorker> {
    // Answers come on a port of their own, so a deadline that fires late (the loop was busy) can
    // still find an answer that arrived in time (receiveMessageOnPort) instead of refusing it.
    const { port1: answers, port2 } = new MessageChannel();
    const worker = new Worker(new URL('./parse-worker.ts', import.meta.url), {
      workerData: { schemasModule: this.#schemasModule, answers: port2 },
      transferList: [port2],
      // A text that would need more is refused with the worker, not grown into the server's memory.
      resourceLimits: { maxOldGenerationSizeMb: 256, stackSizeMb: 4 },
    });
    worker.unref();
    return new Promise((resolve, reject) => {
      worker.once('message', () => {
        worker.off('error', reject);
        resolve({ worker, answers });
      });
      worker.once('error', reject);
    });
  }

  async #read(job: ParseJob): Promise<SpecTextAnswer> {
    const w = this.#idle.pop() ?? (await this.#spawn());
    const { worker, answers } = w;
    worker.ref();
    return new Promise<SpecTextAnswer>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        answers.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const stop = () => {
        answers.close();
        void worker.terminate();
      };
      const timer = setTimeout(() => {
        const arrived = receiveMessageOnPort(answers);
        if (arrived !== undefined) return onMessage(arrived.message as SpecTextAnswer);
        done();
        stop();
        resolve({
          ok: false,
          kind: 'limit',
          file: job.file,
          limit: 'parseMs',
          given: this.deadlineMs,
          max: this.deadlineMs,
          message: new SpecLimitError(job.file, 'parseMs', this.deadlineMs, this.deadlineMs).message,
        });
      }, this.deadlineMs);
      const onMessage = (answer: SpecTextAnswer) => {
        done();
        answers.unref();
        worker.unref();
        this.#idle.push(w);
        resolve(answer);
      };
      const onError = (err: Error) => {
        done();
        stop();
        // Out of memory, typically: the text asked for more than a spec ever needs.
        resolve({
          ok: false,
          kind: 'invalid',
          issues: [{ file: job.file, line: 1, column: 1, path: '', message: `cannot read this text: ${err.message}` }],
        });
      };
      const onExit = (code: number) => onError(new Error(`the parse worker exited with code ${code}`));
      answers.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(job);
    });
  }
}

interface ParseWorker {
  worker: Worker;
  /** Where the worker posts its answers. */
  answers: MessagePort;
}
