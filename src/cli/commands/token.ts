import { type CommandDef, UsageError } from '../command.ts';

interface TokenView {
  id: string;
  name: string;
  role: string;
  environment?: string;
  status: string;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

const pad = (s: string, n: number) => s.padEnd(n);

function table(tokens: TokenView[]): string {
  if (tokens.length === 0) return 'no tokens';
  const rows = tokens.map((t) => [
    t.id,
    t.name,
    t.role,
    t.status,
    t.createdAt.slice(0, 16),
    t.expiresAt?.slice(0, 16) ?? 'never',
    t.createdBy,
  ]);
  const head = ['ID', 'NAME', 'ROLE', 'STATUS', 'CREATED', 'EXPIRES', 'BY'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((c, i) => pad(c, widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export const tokenCommand: CommandDef = {
  name: 'token',
  summary: 'API tokens (admin): create --role R [--env E] [--name N] [--ttl 30d] · list · revoke ID|NAME · whoami',
  usage:
    'sluice token create --role viewer|deployer|approver|admin|sdk [--env ENV (sdk)] [--name NAME] [--ttl 30d] | token list | token revoke ID|NAME | token whoami',
  options: { role: { type: 'string' }, name: { type: 'string' }, ttl: { type: 'string' }, env: { type: 'string' } },
  args: ['action', 'target?'],
  async run({ positionals, values, client, out, json }) {
    const [action, target] = positionals;
    const c = client();
    switch (action) {
      case 'create': {
        if (values.role === undefined)
          throw new UsageError('give the token a role: --role viewer|deployer|approver|admin|sdk');
        if (values.role === 'sdk' && values.env === undefined)
          throw new UsageError("an sdk token reads one environment's flags: --env ENV");
        const body = {
          role: values.role,
          ...(values.env !== undefined && { environment: values.env }),
          ...(values.name !== undefined && { name: values.name }),
          ...(values.ttl !== undefined && { ttl: values.ttl }),
        };
        const t = await c.post<TokenView & { token: string }>('/api/tokens', body);
        if (json) out(JSON.stringify(t, null, 2));
        // The token alone on the last line, so a script can take it with `tail -n 1`.
        else
          out(
            `created token ${t.id} "${t.name}" (role ${t.role}${t.environment ? `, environment ${t.environment}` : ''}, expires ${t.expiresAt ?? 'never'}); it is shown only now:\n${t.token}`,
          );
        return 0;
      }
      case 'list': {
        const { tokens } = await c.get<{ tokens: TokenView[] }>('/api/tokens');
        out(json ? JSON.stringify(tokens, null, 2) : table(tokens));
        return 0;
      }
      case 'revoke': {
        if (target === undefined)
          throw new UsageError('say which token: sluice token revoke ID|NAME (see sluice token list)');
        const t = await c.delete<TokenView>(`/api/tokens/${encodeURIComponent(target)}`);
        out(json ? JSON.stringify(t, null, 2) : `revoked token ${t.id} "${t.name}"`);
        return 0;
      }
      case 'whoami': {
        const me = await c.get<{ name: string; role: string; tokenId: string; expiresAt: string | null }>(
          '/api/whoami',
        );
        out(
          json
            ? JSON.stringify(me, null, 2)
            : `${me.name} (role ${me.role}, token ${me.tokenId}, expires ${me.expiresAt ?? 'never'})`,
        );
        return 0;
      }
      default:
        throw new UsageError(`unknown action "${action}"; valid: create, list, revoke, whoami`);
    }
  },
};
