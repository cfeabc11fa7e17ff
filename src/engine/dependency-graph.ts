/**
 * The services as the dependency graph sees them (core/graph): their declared `dependsOn`, the
 * version each runs (its stable revision, replayed from the log) and the versions it has. An
 * environment's service (`shop--production`) depends on the same environment of a dependency
 * when it has one (`payments--production`), else on the dependency itself.
 */
import {
  brokenDependents,
  declarationProblems,
  failForward,
  unmetDependencies,
  type BrokenDependent,
  type Dependency,
  type GraphService,
  type UnmetDependency,
} from '../core/graph/index.ts';
import { isActive, type ServiceState } from '../core/release/state.ts';
import type { ServiceSpec } from '../spec/index.ts';
import type { Store } from '../store/types.ts';
import type { SpecDocument } from '../spec/documents.ts';
import { SluiceError } from '../errors.ts';

/** One service as the engine knows it: name, stable and releasing versions, current spec, revisions' versions. */
export interface ServiceFacts {
  name: string;
  running: string | null;
  releasing: string | null;
  spec: ServiceSpec | null;
  versions: string[];
}

const ENV = '--';

function declared(spec: ServiceSpec | null): Dependency[] {
  return (spec?.spec.dependsOn ?? []).map((d) => ({ service: d.service, range: d.version }));
}

/** The graph's services: each with its dependencies resolved to the same environment where there is one. */
export function graphServices(facts: readonly ServiceFacts[]): GraphService[] {
  const names = new Set(facts.map((f) => f.name));
  return facts.map((f) => {
    const environment = f.name.includes(ENV) ? f.name.split(ENV)[1]! : null;
    const resolve = (d: Dependency): Dependency => {
      const same = `${d.service}${ENV}${environment}`;
      return environment !== null && names.has(same) ? { ...d, service: same } : d;
    };
    return {
      name: f.name,
      running: f.running,
      releasing: f.releasing,
      known: [...new Set(f.versions)],
      dependsOn: declared(f.spec).map(resolve),
    };
  });
}

/**
 * The services a declaration may name: every service, and the base name of services released
 * through environments (their versions: all of their environments').
 */
function declarable(facts: readonly ServiceFacts[]): GraphService[] {
  const byName = new Map<string, GraphService>();
  for (const f of facts) {
    const base = f.name.split(ENV)[0]!;
    const entry = byName.get(base) ?? {
      name: base,
      running: null,
      releasing: null,
      known: [],
      dependsOn: declared(f.spec),
    };
    entry.known = [...new Set([...entry.known, ...f.versions])];
    if (base === f.name) entry.running = f.running;
    byName.set(base, entry);
  }
  return [...byName.values()];
}

/**
 * Refuse the `dependsOn` of the applied documents (before anything is applied) when a service is
 * unknown, no version meets a range, or the graph would have a cycle; each problem names the file
 * and line of its entry.
 */
export function checkDeclarations(docs: readonly SpecDocument[], facts: readonly ServiceFacts[], file: string): void {
  const applied = docs.flatMap((doc) =>
    doc.kind === 'Service' || doc.kind === 'ServiceWithEnvironments' ? [{ doc, spec: doc.spec }] : [],
  );
  if (applied.every(({ spec }) => (spec.spec.dependsOn ?? []).length === 0)) return;
  const services = applied.map(({ spec }) => ({
    name: spec.metadata.name,
    running: null,
    releasing: null,
    known: [spec.spec.version],
    dependsOn: declared(spec),
  }));
  const problems = declarationProblems(services, declarable(facts));
  if (problems.length === 0) return;
  const lines = problems.map((p) => {
    const doc = applied.find(({ spec }) => spec.metadata.name === p.service)?.doc;
    const at = doc?.at?.[`spec.dependsOn.${p.index}`];
    const where = at === undefined ? file : `${at.file}:${at.line}:${at.column}`;
    return `${where}: ${p.service} spec.dependsOn[${p.index}]: ${p.message}`;
  });
  throw new SluiceError('SPEC_INVALID', lines.join('\n'));
}

/** The facts of every service: its state (replayed from the log), its current spec and its revisions' versions. */
export async function factsOf(
  services: readonly { service: string; state: ServiceState }[],
  store: Store,
): Promise<ServiceFacts[]> {
  const facts: ServiceFacts[] = [];
  for (const { service, state } of services) {
    const stored = await store.service(service);
    facts.push({
      name: service,
      running: state.stable?.version ?? null,
      releasing: isActive(state.release) ? state.release.to.version : null,
      spec: (stored?.spec as ServiceSpec | undefined) ?? null,
      versions: (await store.revisions(service)).map((r) => r.version),
    });
  }
  return facts;
}

/** The dependencies of `spec` (as service `name`) not running a version in range. */
export function unmetFor(spec: ServiceSpec, name: string, facts: readonly ServiceFacts[]): UnmetDependency[] {
  const services = graphServices(facts);
  const dependsOn = services.find((s) => s.name === name)?.dependsOn ?? declared(spec);
  return unmetDependencies(dependsOn, services);
}

/** Why a person may not take `service` back to `version` (running dependents left outside their range), or null. */
export function breakingRefusal(
  service: string,
  version: string,
  facts: readonly ServiceFacts[],
): { message: string; dependents: BrokenDependent[] } | null {
  const broken = brokenDependents(service, version, graphServices(facts));
  if (broken.length === 0) return null;
  const known = facts.find((f) => f.name === service)?.versions ?? [];
  return {
    dependents: broken,
    message: `going back to ${service} ${version} would break what runs on it: ${broken.map((b) => b.message).join('; ')}. Nothing was changed; ${failForward(service, version, broken, known)}`,
  };
}
