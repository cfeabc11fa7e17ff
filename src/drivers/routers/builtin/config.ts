/** `spec.router` for the built-in proxy. */
import { z } from 'zod';
import { duration, listenAddress } from '../../../core/units.ts';
import { literalMessage, secretRef } from '../../secrets.ts';

/**
 * `proxy`: a proxy already running (`sluice proxy` on the data-plane host) that the router drives
 * through its admin API instead of starting one of its own: every replica reaches the same proxy,
 * whatever its data dir.
 */
export const attachedProxyConfig = z
  .strictObject({
    /** The proxy's admin API (its --admin-listen), e.g. http://10.0.0.5:7101. */
    admin: z.url({
      protocol: /^http$/,
      error: (issue) =>
        `${typeof issue.input === 'string' ? `"${issue.input}" is not an http URL: ` : ''}write the proxy's admin API as an http URL (its --admin-listen), e.g. http://10.0.0.5:7101`,
    }),
    /** Where the admin secret is (the file the proxy was given with --admin-secret-file, or a variable holding it). */
    secret: z.union([z.string(), secretRef], {
      error:
        'write where the admin secret is: { secretEnv: SLUICE_PROXY_SECRET } (a variable of the sluice server) or { secretFile: /etc/sluice/proxy.secret }',
    }),
  })
  .superRefine((proxy, ctx) => {
    if (typeof proxy.secret === 'string')
      ctx.addIssue({
        code: 'custom',
        path: ['secret'],
        message: literalMessage("the proxy's admin secret", 'SLUICE_PROXY_SECRET'),
      });
    // A value that is no URL at all is already refused by `admin` itself.
    if (typeof proxy.admin !== 'string' || !URL.canParse(proxy.admin)) return;
    const url = new URL(proxy.admin);
    if (url.protocol !== 'http:') return;
    if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '')
      ctx.addIssue({
        code: 'custom',
        path: ['admin'],
        message: `"${proxy.admin}" has a path or query; write the admin API's address only, e.g. http://${url.host}`,
      });
  });
export type AttachedProxyConfig = z.output<typeof attachedProxyConfig>;

const BUILTIN_FIELDS = {
  driver: z.literal('builtin'),
  /**
   * Where the proxy serves the service's traffic. With `proxy`, the address that proxy serves
   * (its --listen): checked against what it reports.
   */
  listen: listenAddress,
  /** Keep each user on one revision, keyed by this request header or cookie (exactly one). */
  stickiness: z
    .strictObject({
      header: z
        .string()
        .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'write a header name, e.g. x-user-id')
        .optional(),
      cookie: z
        .string()
        .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'write a cookie name, e.g. session')
        .optional(),
    })
    .refine((s) => (s.header === undefined) !== (s.cookie === undefined), {
      message: 'set exactly one of stickiness.header or stickiness.cookie',
    })
    .optional(),
  /** How long the proxy waits on an idle upstream before answering 504 (default 60s). */
  upstreamTimeout: duration.optional(),
  /**
   * Worker processes serving the traffic on one listen socket (default 1: the proxy process
   * itself). More use more cores; each change still reaches every worker before `apply` resolves.
   */
  workers: z
    .number()
    .int('write a whole number of workers, e.g. 2')
    .min(1, 'at least 1 worker')
    .max(64, 'at most 64 workers')
    .optional(),
  /** Drive this running proxy instead of starting one (attached-router.ts). */
  proxy: attachedProxyConfig.optional(),
};

/** Settings of a proxy the router starts; an attached proxy has its own (its command line). */
const STARTED_ONLY = { workers: '--workers', upstreamTimeout: '--upstream-timeout' } as const;

export const builtinRouterConfig = z.strictObject(BUILTIN_FIELDS).superRefine((config, ctx) => {
  if (config.proxy === undefined) return;
  for (const [field, flag] of Object.entries(STARTED_ONLY))
    if (config[field as keyof typeof STARTED_ONLY] !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `${field} is set on the proxy the router starts; with proxy (a running proxy) it is that proxy's own ${flag}: remove ${field} here`,
      });
});

export type BuiltinRouterConfig = z.output<typeof builtinRouterConfig>;
