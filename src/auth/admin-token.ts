import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenStore } from './token-store.ts';

export const ADMIN_TOKEN_FILE = 'admin.token';

/**
 * On first start (no token at all), creates the admin token and writes it to
 * `<data-dir>/admin.token`, readable by the owner only. Returns the token when it made one, for
 * the server to print once; null on every later start.
 */
export function ensureAdminToken(tokens: TokenStore, dataDir: string, now: number): string | null {
  if (tokens.list().length > 0) return null;
  const { token } = tokens.create({ name: 'admin', role: 'admin', createdBy: 'sluice-server', now, ttlMs: null });
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  // A fresh file created with mode 600 (a leftover one could keep a wider mode), so the secret is
  // never readable by others, even briefly.
  rmSync(path, { force: true });
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, `${token}\n`);
  } finally {
    closeSync(fd);
  }
  return token;
}
