/**
 * Where the service's built-in proxy answers its admin API: the running proxy the router is
 * attached to (`<serviceDir>/router/attached.json`, its secret read from the reference there), else
 * `<serviceDir>/router/proxy.json`, read on every call (a restarted proxy listens on a new port), and
 * the bearer header its admin API requires (the secret the router driver keeps in
 * `<serviceDir>/router/admin.secret`).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bearer, readAdminSecret } from '../../routers/builtin/admin-secret.ts';
import { attachedEndpoint } from '../../routers/builtin/attached-file.ts';
import type { DriverContext } from '../../types.ts';

/** Why a request failed, briefly: a timeout's length, a socket error's code, or the message. */
export function describe(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  return e.cause?.code ?? e.message;
}

/** The admin API's base URL and the headers every call to it carries. */
export async function proxyAdmin(ctx: DriverContext): Promise<{ url: string; headers: Record<string, string> }> {
  const attached = await attachedEndpoint(join(ctx.serviceDir, 'router'));
  if (attached !== null) return { url: attached.adminUrl, headers: bearer(attached.secret) };
  const url = await proxyAdminUrl(ctx);
  return { url, headers: bearer(await readAdminSecret(join(ctx.serviceDir, 'router'))) };
}

export async function proxyAdminUrl(ctx: DriverContext): Promise<string> {
  const infoPath = join(ctx.serviceDir, 'router', 'proxy.json');
  let adminUrl: unknown;
  try {
    adminUrl = (JSON.parse(await readFile(infoPath, 'utf8')) as { adminUrl?: unknown }).adminUrl;
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing
        ? `no built-in proxy is running (${infoPath} does not exist)`
        : `cannot read ${infoPath}: ${(err as Error).message}`,
    );
  }
  if (typeof adminUrl !== 'string') throw new Error(`${infoPath} has no adminUrl`);
  return adminUrl;
}
