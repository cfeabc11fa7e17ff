import { readFileSync } from 'node:fs';
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

/** The ports the OS hands out for port 0 (Linux: /proc/sys/net/ipv4/ip_local_port_range). */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi)) return [lo!, hi!];
  } catch {
    // not Linux: the IANA range
  }
  return [49152, 65535];
}

/**
 * A free port for a listener (a router, a server) that no process started later on port 0 can
 * take from under it: it is picked below the OS's ephemeral range, where port 0 never lands. A
 * port picked with `freePort` and bound a moment later can meanwhile go to an instance.
 */
export async function freeListenPort(): Promise<number> {
  const lowest = 10_000;
  const [ephemeralLow] = ephemeralRange();
  if (ephemeralLow - lowest < 1000) return freePort();
  for (let tries = 0; tries < 100; tries++) {
    const port = lowest + Math.floor(Math.random() * (ephemeralLow - lowest));
    if ((await tryBind(port)) !== null) return port;
  }
  return freePort();
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
