/**
 * The provider's connection to Sluice: GET /api/sdk/flags/stream (server-sent events, one
 * `flags` event with the environment's whole set on connect and on every change). Reconnects
 * with a growing delay (to 5 s) when the stream ends or Sluice cannot be reached; the caller
 * keeps the last set it got meanwhile.
 */
import type { EnvironmentFlagSet } from '../core/flags/environment-set.ts';

export interface FlagStreamHandlers {
  onSet: (set: EnvironmentFlagSet) => void;
  /** The stream is down (the first time since the last set): the set in hand is going stale. */
  onDown: (error: Error) => void;
}

export class FlagStream {
  readonly #url: string;
  readonly #token: string;
  readonly #handlers: FlagStreamHandlers;
  #abort = new AbortController();
  #closed = false;
  #delayMs = 100;

  constructor(url: string, token: string, handlers: FlagStreamHandlers) {
    this.#url = url.replace(/\/$/, '');
    this.#token = token;
    this.#handlers = handlers;
  }

  start(): void {
    void this.#loop();
  }

  close(): void {
    this.#closed = true;
    this.#abort.abort();
  }

  async #loop(): Promise<void> {
    while (!this.#closed) {
      try {
        await this.#readOnce();
        if (!this.#closed) this.#handlers.onDown(new Error('the flag stream ended'));
      } catch (err) {
        if (this.#closed) return;
        this.#handlers.onDown(err instanceof Error ? err : new Error(String(err)));
      }
      await new Promise((r) => setTimeout(r, this.#delayMs));
      this.#delayMs = Math.min(this.#delayMs * 2, 5000);
    }
  }

  async #readOnce(): Promise<void> {
    this.#abort = new AbortController();
    const res = await fetch(`${this.#url}/api/sdk/flags/stream`, {
      headers: { authorization: `Bearer ${this.#token}`, accept: 'text/event-stream' },
      signal: this.#abort.signal,
    });
    if (!res.ok || res.body === null) {
      const text = await res.text().catch(() => '');
      throw new Error(`Sluice answered ${res.status} to the flag stream${text ? `: ${text.slice(0, 300)}` : ''}`);
    }
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = message
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n');
        if (/^event: flags$/m.test(message) && data !== '') {
          this.#delayMs = 100;
          this.#handlers.onSet(JSON.parse(data) as EnvironmentFlagSet);
        }
      }
    }
  }
}
