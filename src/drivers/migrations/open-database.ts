/** The one place that maps a database driver name to its folder; the URL is read here, at use. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DatabaseSpec } from '../../spec/index.ts';
import { rememberSecret } from '../secrets.ts';
import { PostgresDatabase } from './postgres/postgres-database.ts';
import { SqliteDatabase } from './sqlite/sqlite-database.ts';
import type { MigrationDatabase } from './types.ts';

function readUrl(ref: Extract<DatabaseSpec, { driver: 'postgres' }>['url']): string {
  let value: string | undefined;
  let where: string;
  if ('secretFile' in ref) {
    where = `secretFile ${ref.secretFile}`;
    try {
      value = readFileSync(ref.secretFile, 'utf8').trim();
    } catch (err) {
      throw new Error(`spec.migrations.database.url: cannot read ${where} (${(err as NodeJS.ErrnoException).code})`);
    }
  } else {
    const name = 'env' in ref ? ref.env : ref.secretEnv;
    where = `the server's environment variable ${name}`;
    value = process.env[name];
  }
  if (value === undefined || value === '')
    throw new Error(
      `spec.migrations.database.url: ${where} is not set; set it to the database URL (postgres://user:password@host:port/db) where the sluice server runs`,
    );
  rememberSecret(value);
  try {
    new URL(value);
  } catch {
    throw new Error(`spec.migrations.database.url: ${where} is not a URL; write postgres://user:password@host:port/db`);
  }
  return value;
}

export function openMigrationDatabase(spec: DatabaseSpec, baseDir: string): MigrationDatabase {
  switch (spec.driver) {
    case 'postgres':
      return new PostgresDatabase(readUrl(spec.url));
    case 'sqlite':
      return new SqliteDatabase(resolve(baseDir, spec.path));
    default:
      spec satisfies never;
      throw new Error('unknown database driver');
  }
}
