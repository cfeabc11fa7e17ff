import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where `npm run build:web` writes the dashboard. */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Vite names built assets by content hash: they never change, so browsers may keep them for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html names the current assets: always revalidated, so a new build shows at the next load. */
const REVALIDATE = 'no-cache';

const MISSING = `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Sluice — dashboard not built</title>
<body style="font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem">
<h1>The dashboard is not built</h1>
<p>This <code>sluice server</code> found no <code>web/dist/index.html</code>. Build it from the project folder:</p>
<pre>npm run build:web</pre>
<p>(<code>npm ci</code> builds it too.) The API works without it: <a href="/api">/api</a> lists the routes.</p>
</body></html>`;

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Serves the dashboard's built files at `/`. Paths that name no file and have no extension get
 * index.html (the app routes them itself); API paths never do, so a wrong API URL stays a JSON 404.
 */
export function registerStatic(app: FastifyInstance, dist: string = WEB_DIST): void {
  const root = normalize(dist.endsWith(sep) ? dist : dist + sep);
  const index = join(root, 'index.html');

  const send = async (reply: FastifyReply, path: string, cache: string) =>
    reply
      .header('content-type', TYPES[extname(path)] ?? 'application/octet-stream')
      .header('cache-control', cache)
      .header('x-content-type-options', 'nosniff')
      .send(await readFile(path));

  const serve = async (req: FastifyRequest, reply: FastifyReply) => {
    // Fastify has already answered 400 to a path that does not decode.
    const path = decodeURIComponent(req.url.split('?')[0] ?? '/');
    if (path === '/api' || path.startsWith('/api/') || path === '/healthz') return reply.callNotFound();
    if (!(await isFile(index)))
      return reply
        .status(503)
        .header('content-type', TYPES['.html']!)
        .header('cache-control', 'no-store')
        .send(MISSING);
    const file = normalize(join(root, path));
    if (file.startsWith(root) && file !== index && (await isFile(file))) {
      return send(reply, file, path.startsWith('/assets/') ? IMMUTABLE : REVALIDATE);
    }
    if (extname(path) !== '') return reply.callNotFound();
    return send(reply, index, REVALIDATE);
  };

  app.get('/', serve);
  app.get('/*', serve);
}
