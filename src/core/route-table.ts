/**
 * What a router serves for one service, whichever router it is (the built-in proxy, HAProxy,
 * NGINX): the engine writes it, drivers apply it, the proxy validates and serves it.
 */

/** One backend of a route table: a revision, its share of traffic and its endpoints. */
export interface RouteBackend {
  key: string;
  version: string;
  /** Percent, 0..100; the backends' weights sum to 100. */
  weight: number;
  endpoints: string[];
}

/**
 * The routing state of one service. Order matters for sticky routing: hash ranges are laid out
 * in backend order, so the engine lists the canary first and a user in the first w% stays there
 * as w grows.
 */
export interface RouteTable {
  backends: RouteBackend[];
  stickiness?: { header?: string; cookie?: string };
  /**
   * Cohort routes, checked before the weights: a request whose header (or cookie) equals `value`
   * goes to backend `key` whatever its weight (canary `setHeaderRoute` steps, blue-green preview).
   */
  routes?: HeaderRoute[];
  /** The lease epoch of the replica that set it (replicated control planes): a lower one is refused. */
  epoch?: number;
}

export interface HeaderRoute {
  key: string;
  match: { header: string; value: string } | { cookie: string; value: string };
}
