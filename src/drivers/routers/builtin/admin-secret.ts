/**
 * The secret that authenticates calls to a built-in proxy's admin API: random, in
 * `<stateDir>/admin.secret`, mode 0600, so only the user Sluice runs as can read it. The router
 * driver creates it before it starts a proxy and passes its path (never its value: a command line
 * is visible to every user) with `--admin-secret-file`; the router and the builtin metrics provider
 * send it as `Authorization: Bearer <secret>`.
 */
import { randomBytes } from 'node:crypto';
import { chmod, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const ADMIN_SECRET_FILE = 'admin.secret';

export const adminSecretPath = (dir: string): string => join(dir, ADMIN_SECRET_FILE);

/** The secret in `<dir>/admin.secret`; throws naming the file when it is missing or empty. */
export async function readAdminSecret(dir: string): Promise<string> {
  const path = adminSecretPath(dir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing
        ? `no admin secret: ${path} does not exist (the router driver writes it when it starts the proxy)`
        : `cannot read ${path}: ${(err as Error).message}`,
    );
  }
  const secret = text.trim();
  if (secret === '') throw new Error(`${path} is empty; delete it and the router driver writes a new one`);
  return secret;
}

/** The secret of `<dir>`, created (32 random bytes, mode 0600) when there is none; a wider mode is narrowed. */
export async function ensureAdminSecret(dir: string): Promise<string> {
  const path = adminSecretPath(dir);
  try {
    const file = await open(path, 'wx', 0o600);
    try {
      await file.writeFile(`${randomBytes(32).toString('base64url')}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
  }
  return readAdminSecret(dir);
}

/** The header every admin call carries. */
export const bearer = (secret: string): Record<string, string> => ({ authorization: `Bearer ${secret}` });
