/**
 * `spec.migrations` (docs/trains.md): the database a version's schema changes run against, and
 * its expand and contract steps, each `up` and `down` a SQL file or an argv command (no shell).
 */
import { z } from 'zod';
import { rangeProblem } from '../core/graph/index.ts';
import { strictObject } from './strict-object.ts';

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name, e.g. CHECKOUT_DB_URL');

/** Where the database URL is (it holds a password): read at use, never stored. */
const urlRef = z.union(
  [
    strictObject({ env: envName }),
    strictObject({ secretEnv: envName }),
    strictObject({ secretFile: z.string().startsWith('/', 'an absolute path to a file (mode 600) holding the URL') }),
  ],
  {
    error: () =>
      'url is a reference, e.g. { env: CHECKOUT_DB_URL }: a database URL holds a password and is never written in a spec',
  },
);

export const databaseSchema = z.discriminatedUnion(
  'driver',
  [
    strictObject({ driver: z.literal('postgres'), url: urlRef }),
    strictObject({
      driver: z.literal('sqlite'),
      path: z.string().min(1).describe("The database file (relative: to the spec file's folder)"),
    }),
  ],
  { error: (iss) => (iss.code === 'invalid_union' ? 'driver is postgres or sqlite' : undefined) },
);

/** A SQL file (relative: to the spec file's folder) or an argv command run without a shell. */
const migrationStep = z.union(
  [
    z.string().min(1).describe('A SQL file'),
    z.array(z.string().min(1)).min(1).describe('An argv command; it gets SLUICE_DATABASE_URL or SLUICE_DATABASE_PATH'),
  ],
  { error: () => 'a SQL file path, or an argv command such as ["node", "migrate.js", "up"]' },
);

const phase = strictObject({ up: migrationStep, down: migrationStep });

export const migrationsSchema = strictObject({
  database: databaseSchema,
  expand: phase.optional().describe('Runs before the canary gets traffic; both versions must run on its result'),
  contract: phase.optional().describe('Runs once the old version is gone and the Verify window passed'),
  schema: strictObject({
    compatibleWith: z
      .string()
      .superRefine((range, ctx) => {
        const problem = rangeProblem(range);
        if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe('The oldest app versions that run on the expanded schema, a semver range (e.g. ">=2.5.0")'),
  }).optional(),
});

export type MigrationsSpec = z.output<typeof migrationsSchema>;
export type DatabaseSpec = z.output<typeof databaseSchema>;
export type MigrationStep = z.output<typeof migrationStep>;
