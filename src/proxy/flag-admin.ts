/**
 * The admin routes of flags at the edge (flag-plane.ts): `PUT /flags` (validate, persist to
 * flags.json, apply), `GET /flags` (the config in force), `GET /flags/metrics` (per flag and
 * variant since the proxy started). Behind the admin API's bearer secret, like every admin route.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type FlagCounts, type FlagPlane, type FlagPlaneConfig, validateFlagConfig } from './flag-plane.ts';

const MAX_BYTES = 4 << 20;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export type FlagAdmin = (route: string, req: IncomingMessage, res: ServerResponse) => boolean;

/** flag → variant → counts since the proxy started (summed over the workers of a multi-worker proxy). */
export type FlagMetrics = () => FlagCounts | Promise<FlagCounts>;

export function createFlagAdmin(
  plane: FlagPlane,
  persist: (c: FlagPlaneConfig) => Promise<void>,
  startedAt: number,
  metrics: FlagMetrics = () => plane.metrics(),
): FlagAdmin {
  let queue: Promise<unknown> = Promise.resolve();
  const put = async (req: IncomingMessage, res: ServerResponse) => {
    const text = await readBody(req);
    if (text === null) return send(res, 413, { error: `flag config larger than ${MAX_BYTES} bytes` });
    let input: unknown;
    try {
      input = JSON.parse(text);
    } catch (err) {
      return send(res, 400, { error: `flag config is not valid JSON: ${(err as Error).message}` });
    }
    const check = validateFlagConfig(input);
    if (!check.ok) return send(res, 400, { error: `invalid flag config: ${check.message}` });
    const applied = queue.then(async () => {
      await persist(check.config);
      plane.apply(check.config);
    });
    queue = applied.catch(() => undefined);
    await applied;
    send(res, 200, { ok: true, version: check.config.set.version });
  };
  return (route, req, res) => {
    switch (route) {
      case 'PUT /flags':
        put(req, res).catch((err: Error) =>
          send(res, 500, { error: `could not persist the flag config: ${err.message}` }),
        );
        return true;
      case 'GET /flags': {
        const c = plane.config();
        send(res, c === null ? 404 : 200, c ?? { error: 'no flags yet' });
        return true;
      }
      case 'GET /flags/metrics':
        Promise.resolve(metrics()).then(
          (flags) => send(res, 200, { startedAt, now: Date.now(), flags }),
          (err: Error) => send(res, 500, { error: err.message }),
        );
        return true;
      default:
        return false;
    }
  };
}
