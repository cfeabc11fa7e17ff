/**
 * The one way in for changes a person asks for: every applied document (read once, typed by its
 * kind) and every release command passes here, where who may change what is checked, and is then
 * dispatched to the part that applies it. Nothing else applies a person's spec (docs/security.md).
 *
 * - A name with `--` belongs to an environment's service (`<service>--<environment>`): no one
 *   applies it directly; it changes through its Service with spec.environments.
 * - Governance fields (environments, approvals, minSoak, verify, highRisk, risk, owners) and the
 *   release policy (windows, freezes) are changed by an approver or admin.
 * - In an environment behind gates, a release moves forward only if its plan started it.
 */
import { protectedChanges } from '../core/flags/protected.ts';
import { rulesWithoutEvidence } from '../core/release/progression.ts';
import type { FlagService } from '../flags/flag-service.ts';
import type { SpecDocument } from '../spec/documents.ts';
import type { ApplyResult } from '../views/apply-result.ts';
import type { CommandName, Engine } from './engine.ts';
import type { Environments } from './environments.ts';
import { checkDeclarations } from './dependency-graph.ts';
import { SluiceError } from '../errors.ts';
import { describeChanges, governanceChanges } from './governance-fields.ts';
import { writePolicy } from './release-policy.ts';
import { policyViolations, readServerPolicy } from './server-policy.ts';
import type { RecordServerEvents } from './server-log.ts';
import type { ServiceStatus } from '../views/service-status.ts';
import type { TrainRunner } from '../trains/train-runner.ts';

/** Who asks: a token's name and role. */
export interface Applicant {
  name: string;
  role: string;
}

export interface ApplyEntryDeps {
  engine: Engine;
  environments: Environments;
  dataDir: string;
  recordServer: RecordServerEvents;
  roleAllows: (has: string, needs: string) => boolean;
  /** Release trains (kind: ReleaseTrain); absent: the kind is refused. */
  trains?: TrainRunner;
  flags: FlagService;
}

export interface ApplyWhere {
  /** Shown in messages and kept with each revision. */
  file: string;
  /** The folder relative paths in the spec resolve against. */
  baseDir: string;
}

export class ApplyEntry {
  readonly #d: ApplyEntryDeps;

  constructor(d: ApplyEntryDeps) {
    this.#d = d;
  }

  /** Check every document, then apply them in order. Nothing is applied when one is refused. */
  async apply(docs: SpecDocument[], where: ApplyWhere, who: Applicant): Promise<ApplyResult[]> {
    for (const doc of docs) this.#check(doc, where, who);
    checkDeclarations(docs, await this.#d.engine.serviceFacts(), where.file);
    // A flag's rules may name segments stored already or applied in the same text.
    const segments = docs.flatMap((d) => (d.kind === 'Segment' ? [d.segment.name] : []));
    const appliedFlags = docs.flatMap((d) => (d.kind === 'FeatureFlag' ? [d.flag] : []));
    const flagProblems = docs.flatMap((d) =>
      d.kind === 'FeatureFlag'
        ? this.#d.flags.problems(d.flag, where.file, segments)
        : d.kind === 'Service' || d.kind === 'ServiceWithEnvironments'
          ? this.#d.flags.stepProblems(d.spec, where.file, appliedFlags)
          : [],
    );
    if (flagProblems.length > 0) throw new SluiceError('SPEC_INVALID', flagProblems.join('\n'));
    // What the server may be made to start and call (an admin's server policy; none: anything).
    const policy = await readServerPolicy(this.#d.dataDir);
    const refused = docs.flatMap((doc) =>
      doc.kind === 'ReleasePolicy' ||
      doc.kind === 'ReleaseTrain' ||
      doc.kind === 'FeatureFlag' ||
      doc.kind === 'Segment'
        ? []
        : policyViolations(doc.spec, policy).map((v) => `${doc.spec.metadata.name}: ${v}`),
    );
    if (refused.length > 0)
      throw new SluiceError('FORBIDDEN', `${where.file}: refused by the server policy:\n${refused.join('\n')}`);
    const o = { ...where, actor: who.name };
    const results: ApplyResult[] = [];
    for (const doc of docs) {
      switch (doc.kind) {
        case 'Service':
          results.push(await this.#d.engine.applyService(doc.spec, o));
          break;
        case 'ServiceWithEnvironments':
          results.push(...(await this.#d.environments.applyDocument(doc.spec, doc.raw, o)));
          break;
        case 'ReleasePolicy': {
          const p = doc.policy;
          await writePolicy(this.#d.dataDir, doc.raw);
          await this.#d.recordServer(
            [
              {
                type: 'policy.applied',
                name: p.name,
                windows: p.windows.length,
                freezes: p.freezes.length,
                document: doc.raw,
              },
            ],
            who.name,
          );
          results.push({
            service: `policy/${p.name}`,
            action: 'configured',
            revision: '-',
            version: '-',
            message: `release policy ${p.name}: ${p.windows.length} window(s), ${p.freezes.length} freeze(s)`,
          });
          break;
        }
        case 'ReleaseTrain': {
          if (this.#d.trains === undefined)
            throw new SluiceError('BAD_REQUEST', `${where.file}: this server runs no release trains`);
          const r = await this.#d.trains.apply(doc.train, doc.at, where.file, who.name);
          results.push({
            service: `train/${doc.train.name}`,
            action: r.action === 'started' ? 'released' : r.action === 'unchanged' ? 'unchanged' : 'waiting',
            revision: '-',
            version: '-',
            message: r.message,
          });
          break;
        }
        case 'FeatureFlag':
          await this.#d.flags.applyFlag(doc.flag, where.file, who.name);
          results.push({
            service: `flag/${doc.flag.name}`,
            action: 'configured',
            revision: '-',
            version: '-',
            message: `flag ${doc.flag.name}: ${Object.keys(doc.flag.environments).join(', ') || 'no environments'}`,
          });
          break;
        case 'Segment':
          await this.#d.flags.applySegment(doc.segment, where.file, who.name);
          results.push({
            service: `segment/${doc.segment.name}`,
            action: 'configured',
            revision: '-',
            version: '-',
            message: `segment ${doc.segment.name}: ${doc.segment.conditions.length} condition(s)`,
          });
          break;
        default:
          doc satisfies never;
      }
    }
    return results;
  }

  /** A release command (promote, pause …), after the environment's gates are checked. */
  async command(
    name: string,
    kind: CommandName,
    args: { full?: boolean; toRevision?: string; reason?: string },
    who: Applicant,
  ): Promise<ServiceStatus> {
    const refusal = this.#d.environments.commandRefusal(name, kind);
    if (refusal !== null) throw new SluiceError('FORBIDDEN', refusal);
    if (kind === 'promote') this.#checkPromote(name, args.reason, who);
    return this.#d.engine.command(name, kind, args, who.name);
  }

  /**
   * Where an environment asks for approvals, moving a release on while some rule has not shown
   * the canary good at its current weight is an override: an approver gives it, with a reason;
   * the release.promoted event keeps the verdicts, the rules without evidence, who and why.
   */
  #checkPromote(name: string, reason: string | undefined, who: Applicant): void {
    if (this.#d.environments.approvalsRequired(name) === 0) return;
    const release = this.#d.engine.releaseOf(name);
    const missing = release === null ? [] : rulesWithoutEvidence(release);
    if (missing.length === 0) return;
    const what = `promoting ${name} while ${missing.join(', ')} ${missing.length === 1 ? 'has' : 'have'} not shown the canary good at its current weight`;
    if (!this.#d.roleAllows(who.role, 'approver')) {
      throw new SluiceError(
        'FORBIDDEN',
        `${who.name} (${who.role}) cannot override the evidence: ${what} is an override in this environment, given by an approver or admin with a reason`,
      );
    }
    if (reason === undefined || reason.trim() === '') {
      throw new SluiceError(
        'FORBIDDEN',
        `${what} is an override in this environment: give the reason (sluice promote ${name} --reason "…")`,
      );
    }
  }

  #check(doc: SpecDocument, where: ApplyWhere, who: Applicant): void {
    const approver = this.#d.roleAllows(who.role, 'approver');
    if (doc.kind === 'ReleaseTrain') return;
    if (doc.kind === 'ReleasePolicy') {
      if (!approver)
        throw new SluiceError(
          'FORBIDDEN',
          `${who.name} (${who.role}) cannot apply release policy ${doc.policy.name}: a release policy (windows, freezes) is applied by an approver or admin`,
        );
      return;
    }
    if (doc.kind === 'Segment') return;
    if (doc.kind === 'FeatureFlag') {
      const changed = protectedChanges(this.#d.flags.set.flags[doc.flag.name]?.flag ?? null, doc.flag);
      if (changed.length > 0 && !approver) {
        throw new SluiceError(
          'FORBIDDEN',
          `${who.name} (${who.role}) cannot change flag ${doc.flag.name} in ${changed.join(', ')}: ${changed.length === 1 ? 'it is' : 'they are'} protected (protected: true), changed by an approver or admin. Turning the flag off (sluice flag disable) needs no approver`,
        );
      }
      return;
    }
    const name = doc.spec.metadata.name;
    if (name.includes('--')) {
      const [base, environment] = name.split('--');
      throw new SluiceError(
        'SPEC_INVALID',
        `${where.file}: metadata.name "${name}": "--" is reserved for environments' services (<service>--<environment>); ${environment} of ${base} changes only through ${base}'s spec.environments (sluice release ${base} --version V --to ${environment}). Name a service of its own without "--"`,
      );
    }
    const { environments } = this.#d;
    if (doc.kind === 'Service') {
      if (environments.has(name))
        throw new SluiceError(
          'CONFLICT',
          `${where.file}: ${name} is released through its environments; apply it with its spec.environments (removing them needs sluice delete of each environment's service first)`,
        );
      return;
    }
    const changes = governanceChanges(environments.appliedSpec(name), doc.spec);
    if (changes.length > 0 && !approver) {
      throw new SluiceError(
        'FORBIDDEN',
        `${who.name} (${who.role}) cannot change ${describeChanges(changes)} of ${name}: governance fields (environments, approvals, minSoak, verify, highRisk, risk, owners) are changed by an approver or admin. Apply the spec with these fields as they are, or ask an approver to apply it`,
      );
    }
  }
}
