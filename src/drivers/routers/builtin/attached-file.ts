/**
 * `<routerDir>/attached.json`: which running proxy a service's router is attached to
 * (`router.proxy`), for the others that call the same proxy's admin API — the builtin metrics
 * provider and the flag guard — which are not given the router's config. It holds the admin URL
 * and where the secret is (the reference, never its value). The attached router writes it when it
 * is created; a router that starts its own proxy removes it.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveSecret, type SecretRef } from '../../secrets.ts';

export const ATTACHED_FILE = 'attached.json';

/** The admin API of the proxy a router drives, and its secret. */
export interface ProxyEndpoint {
  adminUrl: string;
  secret: string;
}

interface AttachedFile {
  adminUrl: string;
  secret: SecretRef;
}

/** Says that `dir`'s router drives the proxy at `adminUrl` (synchronous: done before the router is used). */
export function recordAttached(dir: string, adminUrl: string, secret: SecretRef): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file: AttachedFile = { adminUrl, secret };
  writeFileSync(join(dir, ATTACHED_FILE), `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
}

/** `dir`'s router starts its own proxy: no attached one any more. */
export function forgetAttached(dir: string): void {
  rmSync(join(dir, ATTACHED_FILE), { force: true });
}

/**
 * The attached proxy of `dir`, its secret read now; null when `dir`'s router starts its own.
 * Throws naming the reference when the secret cannot be read.
 */
export async function attachedEndpoint(dir: string): Promise<ProxyEndpoint | null> {
  let file: AttachedFile;
  try {
    file = JSON.parse(await readFile(join(dir, ATTACHED_FILE), 'utf8')) as AttachedFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read ${join(dir, ATTACHED_FILE)}: ${(err as Error).message}`);
  }
  return { adminUrl: file.adminUrl, secret: resolveSecret(file.secret) };
}
