/**
 * What a deployer's spec may make the server do: the executables it may start (targets, smoke
 * steps, router binaries) and the hosts it may call (metrics, webhooks, probes, smoke checks,
 * static targets). Set by an admin (`PUT /api/server-policy`), kept in `<data-dir>/server-policy.json`
 * (mode 0600), checked at the one apply entry. No policy, or a list left out: no limit (a laptop).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { SluiceError } from '../errors.ts';

export const SERVER_POLICY_FILE = 'server-policy.json';

export const serverPolicySchema = z.strictObject({
  allowExec: z
    .array(
      z
        .string()
        .min(1, 'an entry names an executable (node), a path (/usr/bin/haproxy) or a folder ending in / (/opt/app/)'),
    )
    .max(200)
    .nullable()
    .optional()
    .describe(
      'Executables a spec may start: a name as written (node), an exact path, or a folder prefix ending in /; absent or null: any',
    ),
  allowUrlHosts: z
    .array(
      z
        .string()
        .regex(
          /^[A-Za-z0-9.\-:[\]*]+$/,
          'an entry is a host (prometheus.internal), host:port (127.0.0.1:9090) or *.domain',
        ),
    )
    .max(200)
    .nullable()
    .optional()
    .describe(
      'Hosts a spec may have the server call: host, host:port, or *.domain for its subdomains; absent or null: any',
    ),
});
export type ServerPolicy = z.output<typeof serverPolicySchema>;

export async function readServerPolicy(dataDir: string): Promise<ServerPolicy> {
  try {
    return serverPolicySchema.parse(JSON.parse(await readFile(join(dataDir, SERVER_POLICY_FILE), 'utf8')));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new SluiceError(
      'SPEC_INVALID',
      `${join(dataDir, SERVER_POLICY_FILE)} is not a valid server policy: ${(err as Error).message}`,
    );
  }
}

export async function writeServerPolicy(dataDir: string, policy: ServerPolicy): Promise<void> {
  const path = join(dataDir, SERVER_POLICY_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(policy, null, 2)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** Where a spec names an executable: the first word of an argv list (a process target's or smoke step's `command`, a command target's `deploy` …), and a router's `binary`. */
const ARGV_KEYS = new Set(['command', 'deploy', 'undeploy', 'instances']);
const EXEC_KEYS = new Set(['binary']);

/**
 * Every place in a validated spec (defaults filled in, so a router's default binary counts) that the policy does not allow, as
 * "spec.target.command[0]: node is not an allowed executable …". Walks the whole document, so
 * environments' overrides, smoke steps and drivers to come are covered without naming each.
 */
export function policyViolations(doc: unknown, policy: ServerPolicy): string[] {
  const out: string[] = [];
  const walk = (value: unknown, path: string, key: string | null): void => {
    if (Array.isArray(value)) {
      if (key !== null && ARGV_KEYS.has(key) && typeof value[0] === 'string') checkExec(value[0], `${path}[0]`);
      value.forEach((v, i) => walk(v, `${path}[${i}]`, null));
      return;
    }
    if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, path === '' ? k : `${path}.${k}`, k);
      return;
    }
    if (typeof value !== 'string') return;
    if (key !== null && EXEC_KEYS.has(key)) checkExec(value, path);
    if (/^https?:\/\//i.test(value.trim())) checkUrl(value.trim(), path);
  };
  const checkExec = (exec: string, path: string) => {
    const allowed = policy.allowExec;
    if (
      allowed == null ||
      allowed.some((a) => (a.endsWith('/') ? exec.startsWith(a) && !exec.slice(a.length).includes('..') : exec === a))
    )
      return;
    out.push(
      `${path}: ${JSON.stringify(exec)} is not an executable this server may start; allowed (server policy, set by an admin): ${allowed.join(', ') || 'none'}`,
    );
  };
  const checkUrl = (url: string, path: string) => {
    const allowed = policy.allowUrlHosts;
    if (allowed == null) return;
    let host: string;
    let hostPort: string;
    try {
      const u = new URL(url.replace(/\$\{[^}]*\}/g, 'x'));
      host = u.hostname.toLowerCase();
      hostPort = u.host.toLowerCase();
    } catch {
      return; // not a URL after all; the spec's own schema says what is wrong with it
    }
    const ok = allowed.some((a) => {
      const entry = a.toLowerCase();
      return entry === host || entry === hostPort || (entry.startsWith('*.') && host.endsWith(entry.slice(1)));
    });
    if (!ok)
      out.push(
        `${path}: ${hostPort} is not a host this server may call; allowed (server policy, set by an admin): ${allowed.join(', ') || 'none'}`,
      );
  };
  walk(doc, '', null);
  return out;
}
