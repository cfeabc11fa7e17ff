import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Binds 127.0.0.1:`port` (0: any) and releases it; resolves the port, or null when it is taken. */
function tryBind(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}

/** A port the OS considers free right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const port = await tryBind(0);
  if (port === null) throw new Error('no free port on 127.0.0.1');
  return port;
}

/**
 * Whether `port` becomes free within `withinMs`. A port stays busy for a moment after its
 * process died, so a dead instance's port is worth waiting for before giving it up.
 */
export async function portFreesUp(port: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if ((await tryBind(port)) !== null) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}
