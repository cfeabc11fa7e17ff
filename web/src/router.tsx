import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/** A router of three paths is a few lines; no dependency needed. The server answers every path with the app. */
const watchers = new Set<() => void>();
window.addEventListener('popstate', () => watchers.forEach((w) => w()));

export function navigate(path: string): void {
  if (path === location.pathname) return;
  history.pushState(null, '', path);
  watchers.forEach((w) => w());
  window.scrollTo(0, 0);
}

export function usePath(): string {
  return useSyncExternalStore(
    (w) => (watchers.add(w), () => watchers.delete(w)),
    () => location.pathname,
  );
}

export type Route =
  | { page: 'overview' }
  | { page: 'graph' }
  | { page: 'analytics' }
  | { page: 'flags' }
  | { page: 'drills'; drill: string | null; run: number | null }
  | { page: 'service'; name: string; release: number | null }
  | { page: 'missing'; path: string };

export function routeOf(path: string): Route {
  if (path === '/' || path === '') return { page: 'overview' };
  if (path === '/graph' || path === '/graph/') return { page: 'graph' };
  if (path === '/analytics' || path === '/analytics/') return { page: 'analytics' };
  if (path === '/flags' || path === '/flags/') return { page: 'flags' };
  const d = /^\/drills(?:\/([a-z0-9][a-z0-9-]*)\/(\d+))?\/?$/.exec(path);
  if (d) return { page: 'drills', drill: d[1] ?? null, run: d[2] ? Number(d[2]) : null };
  const m = /^\/services\/([a-z][a-z0-9-]*)(?:\/releases\/(\d+))?\/?$/.exec(path);
  if (m) return { page: 'service', name: m[1]!, release: m[2] ? Number(m[2]) : null };
  return { page: 'missing', path };
}

export function Link({ href, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={onClick} {...rest} />;
}
