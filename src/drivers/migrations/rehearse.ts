/**
 * Before production, every migration is rehearsed on a throwaway copy of the real database: up,
 * then down (which must succeed and give back the schema from before up), then up again. A
 * migration whose down fails or does not restore the schema is refused: its release could not be
 * undone. The copy is dropped whatever happens.
 */
import type { MigrationsSpec } from '../../spec/index.ts';
import { describeStep, runStep, type StepResult } from './run-step.ts';
import type { MigrationDatabase } from './types.ts';

export interface Rehearsal {
  ok: boolean;
  /** Why it was refused (null: it passed). */
  problem: string | null;
  durationMs: number;
  steps: { phase: 'expand' | 'contract'; direction: 'up' | 'down' | 'up again'; ok: boolean; durationMs: number }[];
}

/** Lines in one schema dump and not the other, for the refusal. */
function schemaDiff(before: string, after: string): string {
  const a = new Set(before.split('\n'));
  const b = new Set(after.split('\n'));
  const lost = [...a].filter((l) => !b.has(l)).map((l) => `  - ${l}`);
  const gained = [...b].filter((l) => !a.has(l)).map((l) => `  + ${l}`);
  return [...lost, ...gained].slice(0, 20).join('\n');
}

export async function rehearse(m: MigrationsSpec, db: MigrationDatabase, baseDir: string): Promise<Rehearsal> {
  const started = performance.now();
  const steps: Rehearsal['steps'] = [];
  const done = (problem: string | null): Rehearsal => ({
    ok: problem === null,
    problem,
    durationMs: Math.round(performance.now() - started),
    steps,
  });
  let scratch;
  try {
    scratch = await db.scratch();
  } catch (err) {
    return done(`cannot make a copy of the database to rehearse on: ${(err as Error).message}`);
  }
  try {
    for (const phase of ['expand', 'contract'] as const) {
      const p = m[phase];
      if (p === undefined) continue;
      const before = await scratch.schema();
      const run = async (
        direction: Rehearsal['steps'][number]['direction'],
        step: typeof p.up,
      ): Promise<StepResult> => {
        const r = await runStep(step, scratch, baseDir);
        steps.push({ phase, direction, ok: r.ok, durationMs: r.durationMs });
        return r;
      };
      const up = await run('up', p.up);
      if (!up.ok) return done(`${phase}.up (${describeStep(p.up)}) failed on the rehearsal copy: ${up.error}`);
      const down = await run('down', p.down);
      if (!down.ok)
        return done(
          `${phase}.down (${describeStep(p.down)}) failed on the rehearsal copy, so this release could not be undone: ${down.error}`,
        );
      const restored = await scratch.schema();
      if (restored !== before)
        return done(
          `${phase}.down (${describeStep(p.down)}) does not give back the schema from before ${phase}.up:\n${schemaDiff(before, restored)}`,
        );
      const again = await run('up again', p.up);
      if (!again.ok)
        return done(`${phase}.up (${describeStep(p.up)}) failed when run again after its down: ${again.error}`);
    }
    return done(null);
  } finally {
    await scratch.drop().catch(() => undefined);
  }
}
