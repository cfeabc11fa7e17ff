/** The dependency graph: declarations, order, and the checks wherever a version changes. */
export type { Dependency, DependencyGraph, GraphEdge, GraphService, Violation } from './types.ts';
export { rangeProblem, satisfies, versionsIn } from './semver-range.ts';
export { dependencyLevels, dependentsOf, findCycle, type Needs } from './order.ts';
export { dependencyGraph, needsOf } from './graph.ts';
export {
  brokenDependents,
  declarationProblems,
  failForward,
  unmetDependencies,
  type BrokenDependent,
  type DeclarationProblem,
  type UnmetDependency,
} from './checks.ts';
export { graphToDot } from './dot.ts';
