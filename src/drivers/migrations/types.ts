/**
 * The contract of a migration database driver (one folder each: sqlite/, postgres/): run SQL in a
 * transaction, read the schema as comparable text, and make a throwaway copy to rehearse on.
 */

export interface MigrationDatabase {
  /** The driver's name, for events. */
  readonly driver: string;
  /** Run SQL text (one or more statements) in one transaction: all of it, or none. */
  exec(sql: string): Promise<void>;
  /** The schema (tables, columns, indexes, constraints) as sorted text, to compare before and after. */
  schema(): Promise<string>;
  /** A throwaway copy of this database, with its data (PostgreSQL: CREATE DATABASE … TEMPLATE; SQLite: VACUUM INTO). */
  scratch(): Promise<ScratchDatabase>;
  /** What an argv migration command gets in its environment to reach this database. */
  commandEnv(): Record<string, string>;
}

export interface ScratchDatabase extends MigrationDatabase {
  /** Remove the copy. */
  drop(): Promise<void>;
}
