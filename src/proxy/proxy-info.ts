/**
 * proxy.json in the proxy's state folder: how a controller finds and checks a running proxy. The
 * proxy writes it; the built-in router driver reads it (the one file of the proxy it imports).
 */
export interface ProxyInfo {
  pid: number;
  adminUrl: string;
  /** The traffic address actually bound (host:port). */
  listen: string;
  startedAt: number;
  /** Worker processes serving traffic (`--workers`; 1 when absent: a proxy from before workers). */
  workers: number;
}

/** The file's parsed contents as a ProxyInfo, or null when they are not one (a partial or foreign file). */
export function proxyInfoOf(json: unknown): ProxyInfo | null {
  const info = json as Partial<ProxyInfo> | null;
  if (typeof info !== 'object' || info === null) return null;
  if (typeof info.pid !== 'number' || typeof info.adminUrl !== 'string' || typeof info.listen !== 'string') return null;
  return {
    pid: info.pid,
    adminUrl: info.adminUrl,
    listen: info.listen,
    startedAt: typeof info.startedAt === 'number' ? info.startedAt : 0,
    workers: typeof info.workers === 'number' ? info.workers : 1,
  };
}
