/** The dependency graph's shapes: what a service needs of another, and what the graph shows. */

/** `service` must run a version in the semver `range` (e.g. ">=2.3.0 <3.0.0"). */
export interface Dependency {
  service: string;
  range: string;
}

/** One service as the graph sees it: what it declares, what runs, what versions exist. */
export interface GraphService {
  name: string;
  dependsOn: Dependency[];
  /** The version serving all traffic (null: nothing deployed yet). */
  running: string | null;
  /** A version being released beside it (a canary), shown but not counted as running. */
  releasing: string | null;
  /** Every version the service has a revision (or an applied spec) of. */
  known: string[];
}

/** One edge: `from` depends on `to` within `range`; `met` is whether `to` runs a version in it. */
export interface GraphEdge {
  from: string;
  to: string;
  range: string;
  met: boolean;
}

/** A service running against a dependency outside its range (or one that does not exist). */
export interface Violation {
  service: string;
  dependency: string;
  range: string;
  /** What the dependency runs (null: nothing, or it does not exist). */
  running: string | null;
  message: string;
}

export interface DependencyGraph {
  services: GraphService[];
  edges: GraphEdge[];
  violations: Violation[];
  /** Services by dependency level: level 0 depends on nothing, level n on levels below it. */
  levels: string[][];
}
