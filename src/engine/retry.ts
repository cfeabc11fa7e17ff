/** Run `fn` up to `attempts` times with growing pauses; rethrows the last error. */
export async function withRetry<T>(fn: () => Promise<T>, attempts = 3, firstDelayMs = 100): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn();
    } catch (err) {
      last = err;
      if (i < attempts - 1) await new Promise((r) => setTimeout(r, firstDelayMs * 3 ** i));
    }
  }
  throw last;
}

/** Reject with a clear message when `p` takes longer than `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms}ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
