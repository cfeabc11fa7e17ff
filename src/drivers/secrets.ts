/**
 * Secrets stay out of specs, revisions and events (docs/security.md). A spec names where a secret
 * is — `{ secretEnv: NAME }` (a variable of the Sluice server) or `{ secretFile: /path }` — and it
 * is read when used, never stored. A literal value where a secret goes is refused with the field
 * named. Every secret read, and every token the server hands out, is remembered so that captured
 * output (smoke checks, deploy commands) is scrubbed before it enters an event. Child processes
 * get a minimal environment, not the server's.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Where a secret is: read at use, never stored. */
export const secretRef = z.union([
  z.strictObject({
    secretEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'write an environment variable name, e.g. PROMETHEUS_TOKEN'),
  }),
  z.strictObject({
    secretFile: z.string().startsWith('/', 'write an absolute path to a file (mode 600) holding the secret'),
  }),
]);
export type SecretRef = z.output<typeof secretRef>;

/** Header names whose value is a credential. */
const SENSITIVE_HEADER =
  /^(authorization|proxy-authorization|cookie|x-api-key|api-key)$|token|secret|password|auth|key/i;

/** HTTP headers from a spec: plain values, or references for credentials (a literal credential is refused). */
export const headersWithSecrets = z
  .record(z.string(), z.union([z.string(), secretRef]))
  .prefault({})
  .superRefine((headers, ctx) => {
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value === 'string' && SENSITIVE_HEADER.test(name)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: literalMessage(`header ${name}`, 'SLUICE_HEADER_SECRET'),
        });
      }
    }
  });
export type HeadersWithSecrets = z.output<typeof headersWithSecrets>;

/** The refusal of a literal secret, with the reference form to write instead. */
export function literalMessage(what: string, example: string): string {
  return `a literal secret (${what}) would be stored in every revision and shown to anyone who reads the spec; write a reference instead: { secretEnv: ${example} } (a variable of the sluice server) or { secretFile: /etc/sluice/${example.toLowerCase()} }`;
}

const known = new Set<string>();
/** Secret names whose values in the server's own environment are scrubbed too. */
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE|CREDENTIAL/i;

/** Remember a secret value (a token handed out, a secret read) so output can be scrubbed of it. */
export function rememberSecret(value: string | undefined): void {
  if (value !== undefined && value.length >= 6) known.add(value);
}

/** Read a referenced secret now. Throws a sentence naming the reference when it is missing. */
export function resolveSecret(ref: SecretRef): string {
  let value: string | undefined;
  if ('secretEnv' in ref) {
    value = process.env[ref.secretEnv];
    if (value === undefined || value === '')
      throw new Error(`secretEnv ${ref.secretEnv} is not set in the Sluice server's environment`);
  } else {
    try {
      value = readFileSync(ref.secretFile, 'utf8').trim();
    } catch (err) {
      throw new Error(
        `secretFile ${ref.secretFile} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    if (value === '') throw new Error(`secretFile ${ref.secretFile} is empty`);
  }
  rememberSecret(value);
  return value;
}

/** Headers to send: references read now. */
export function resolveHeaders(headers: HeadersWithSecrets): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, typeof v === 'string' ? v : resolveSecret(v)]));
}

/** `text` with every known secret (and every secret-named variable of the server) replaced by `[secret]`. */
export function scrubSecrets(text: string): string {
  const values = new Set(known);
  for (const [name, value] of Object.entries(process.env))
    if (SECRET_NAME.test(name) && value !== undefined && value.length >= 6) values.add(value);
  let out = text;
  for (const v of [...values].sort((a, b) => b.length - a.length)) out = out.split(v).join('[secret]');
  return out;
}

/** What a child process inherits from the server: enough to find programs and speak the locale. */
export const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'] as const;

/** A child's environment: the inherited few, then what the spec (and Sluice) give it. */
export function childEnv(given: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of INHERITED_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
  return { ...env, ...given };
}

/**
 * A stored spec as people may see it: a literal where a secret goes (a spec stored before literals
 * were refused) shows as `[redacted]`: `secret` fields, credential headers, secret-named env values.
 */
export function redactSecrets(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const literal = typeof v === 'string' && v !== '';
    if (
      literal &&
      (k === 'secret' || (key === 'headers' && SENSITIVE_HEADER.test(k)) || (key === 'env' && SECRET_NAME.test(k)))
    )
      out[k] = '[redacted]';
    else out[k] = redactSecrets(v, k);
  }
  return out;
}
