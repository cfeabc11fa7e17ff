import type { ReleaseView, ServiceStatus } from '../../views/index.ts';
import type { Client } from '../client.ts';
import type { CommandDef } from '../command.ts';
import { formatHistory, formatList, formatStatus } from '../format.ts';

/** Re-render on every event of the service (and each second, for the clocks) until Ctrl-C. */
async function watch(c: Client, service: string, out: (s: string) => void, json: boolean): Promise<number> {
  const tty = process.stdout.isTTY === true;
  let last = '';
  const render = async () => {
    const s = await c.get<ServiceStatus>(`/api/services/${service}`);
    const text = json ? JSON.stringify(s) : formatStatus(s);
    if (tty) out(`\x1b[2J\x1b[H${text}\n\n(watching ${service}; Ctrl-C to stop)`);
    else if (text !== last) out(text + (json ? '' : '\n'));
    last = text;
  };
  await render();
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  const timer = setInterval(() => void render().catch(() => undefined), 1000);
  try {
    const res = await fetch(`${c.server}/api/events?service=${encodeURIComponent(service)}`, {
      signal: stop.signal,
      headers: c.headers,
    });
    const reader = res.body!.getReader();
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
      await render().catch(() => undefined);
    }
  } catch (err) {
    if (!stop.signal.aborted) throw err;
  } finally {
    clearInterval(timer);
  }
  return 0;
}

export const statusCommand: CommandDef = {
  name: 'status',
  summary: 'phase, versions, traffic, step and verdicts of a service (all services without a name)',
  usage: 'sluice status [SERVICE] [--watch] [-o json]',
  options: { watch: { type: 'boolean', short: 'w' } },
  args: ['service?'],
  async run({ positionals, values, client, out, json }) {
    const [service] = positionals;
    const c = client();
    if (service === undefined) {
      const { services } = await c.get<{ services: ServiceStatus[] }>('/api/services');
      out(json ? JSON.stringify(services, null, 2) : formatList(services));
      return 0;
    }
    if (values.watch) return watch(c, service, out, json);
    const s = await c.get<ServiceStatus>(`/api/services/${service}`);
    out(json ? JSON.stringify(s, null, 2) : formatStatus(s));
    return 0;
  },
};

export const historyCommand: CommandDef = {
  name: 'history',
  summary: 'past releases of a service, with their rollback logs',
  usage: 'sluice history SERVICE [-o json]',
  args: ['service'],
  async run({ positionals, client, out, json }) {
    const { releases } = await client().get<{ releases: ReleaseView[] }>(`/api/services/${positionals[0]}/history`);
    out(json ? JSON.stringify(releases, null, 2) : formatHistory(releases));
    return 0;
  },
};
