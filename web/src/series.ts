import { useEffect, useRef, useState } from 'react';
import { api, type RuleSeries, type ServiceEvent, type VerdictSeries } from './api.ts';
import { hub, throttle } from './live.ts';
import { appendVerdicts } from '../../src/views/index.ts';

/** Points per rule asked from the server; the server keeps each bucket's extremes and verdict changes. */
export const MAX_POINTS = 2000;

function append(series: VerdictSeries, e: Extract<ServiceEvent, { type: 'analysis.evaluated' }>): number {
  series.lastSeq = e.seq;
  return appendVerdicts(series.rules, e.verdicts);
}

/**
 * A release's verdicts per rule: loaded once (reduced by the server), then appended in place from
 * the event stream while the release is live. Arrays are mutated and `version` bumps at most once
 * per animation frame, so hours of per-second verdicts cost one small redraw per frame. Past
 * 2 × MAX_POINTS the series is reloaded, reduced again.
 */
export function useVerdictSeries(
  service: string,
  release: number | null,
  live: boolean,
): { series: VerdictSeries | null; version: number; error: string | null } {
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<VerdictSeries | null>(null);
  useEffect(() => {
    ref.current = null;
    setVersion((v) => v + 1);
    if (release === null) return;
    let disposed = false;
    let pending: Extract<ServiceEvent, { type: 'analysis.evaluated' }>[] | null = [];
    let frame = 0;
    const bump = () => {
      if (frame === 0) frame = requestAnimationFrame(() => ((frame = 0), setVersion((v) => v + 1)));
    };
    const ctl = { current: new AbortController() };
    const load = () => {
      ctl.current.abort();
      const c = (ctl.current = new AbortController());
      pending ??= [];
      api.verdicts(service, release, MAX_POINTS, c.signal).then(
        (s) => {
          if (disposed || c.signal.aborted) return;
          for (const e of pending ?? []) if (e.seq > s.lastSeq) append(s, e);
          pending = null;
          ref.current = s;
          setError(null);
          bump();
        },
        (err: unknown) => !disposed && !c.signal.aborted && setError(err instanceof Error ? err.message : String(err)),
      );
    };
    const reload = throttle(load, 5000);
    load();
    const unsubscribe = hub.subscribe(
      (e) => {
        if (!live || e.service !== service || e.type !== 'analysis.evaluated') return;
        if (pending !== null) return void pending.push(e);
        const s = ref.current;
        if (s === null || e.seq <= s.lastSeq) return;
        if (append(s, e) > 2 * MAX_POINTS) reload.call();
        bump();
      },
      () => live && load(),
    );
    return () => {
      disposed = true;
      ctl.current.abort();
      reload.cancel();
      cancelAnimationFrame(frame);
      unsubscribe();
    };
  }, [service, release, live]);
  return { series: ref.current, version, error };
}

export type { RuleSeries };
