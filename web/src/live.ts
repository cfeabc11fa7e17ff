import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { streamEvents, type ServiceEvent } from './api.ts';

type Listener = (e: ServiceEvent) => void;
/** `signed-out`: the server answered, and wants a token (the sign-in form is shown). */
type Connection = 'connecting' | 'live' | 'offline' | 'signed-out';

/**
 * One event stream for the whole app, shared by every page. Listeners get each event once;
 * `onResync` listeners run each time the stream (re)connects, to reload what they show.
 */
class EventHub {
  #listeners = new Set<Listener>();
  #resync = new Set<() => void>();
  #state: Connection = 'connecting';
  #watchers = new Set<() => void>();
  #stop: (() => void) | null = null;

  #start(): void {
    if (this.#stop !== null) return;
    this.#stop = streamEvents(
      (e) => this.#listeners.forEach((l) => l(e)),
      (s) => {
        this.#state = s;
        this.#watchers.forEach((w) => w());
        if (s === 'live') this.#resync.forEach((r) => r());
      },
    );
  }

  subscribe(listener: Listener, onResync?: () => void): () => void {
    this.#start();
    this.#listeners.add(listener);
    if (onResync) this.#resync.add(onResync);
    return () => {
      this.#listeners.delete(listener);
      if (onResync) this.#resync.delete(onResync);
    };
  }

  watch = (w: () => void): (() => void) => {
    this.#start();
    this.#watchers.add(w);
    return () => this.#watchers.delete(w);
  };

  state = (): Connection => this.#state;
}

export const hub = new EventHub();

export function useConnection(): Connection {
  return useSyncExternalStore(hub.watch, hub.state);
}

/** Calls `fn` at most once per `ms`, and once more after the last call in a burst. */
export function throttle(fn: () => void, ms: number): { call: () => void; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let last = 0;
  return {
    call() {
      if (timer !== null) return;
      const wait = Math.max(0, last + ms - Date.now());
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        fn();
      }, wait);
    },
    cancel() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  reload: () => void;
}

/**
 * Loads `load()` now, again whenever `relevant(event)` holds for a streamed event (throttled), and
 * after each reconnect. `deps` restart it (e.g. another service).
 */
export function useLive<T>(
  load: (signal: AbortSignal) => Promise<T>,
  relevant: (e: ServiceEvent) => boolean,
  deps: unknown[],
  throttleMs = 200,
): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reloadRef = useRef<() => void>(() => {});
  useEffect(() => {
    let current: AbortController | null = null;
    let disposed = false;
    const fetchNow = () => {
      current?.abort();
      const ctl = (current = new AbortController());
      load(ctl.signal).then(
        (d) => !disposed && !ctl.signal.aborted && (setData(d), setError(null)),
        (err: unknown) =>
          !disposed && !ctl.signal.aborted && setError(err instanceof Error ? err.message : String(err)),
      );
    };
    const t = throttle(fetchNow, throttleMs);
    reloadRef.current = fetchNow;
    setData(null);
    fetchNow();
    const unsubscribe = hub.subscribe((e) => relevant(e) && t.call(), t.call);
    return () => {
      disposed = true;
      t.cancel();
      current?.abort();
      unsubscribe();
    };
  }, deps);
  return { data, error, reload: () => reloadRef.current() };
}
