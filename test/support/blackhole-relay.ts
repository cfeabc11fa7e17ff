/**
 * A TCP relay on loopback in front of a server that can drop every byte both ways while keeping
 * the connections open: a network partition as a client sees one (no error, no answer), unlike a
 * stopped server (connection refused). Connections opened while dropping hang as well.
 */
import net from 'node:net';

export interface BlackholeRelay {
  port: number;
  /** true: drop every byte from now on (the bytes are lost, as a long partition loses them); false: relay again. */
  drop(on: boolean): void;
  close(): Promise<void>;
}

export async function blackholeRelay(target: { host: string; port: number }): Promise<BlackholeRelay> {
  let dropping = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.on('data', (chunk) => {
        if (!dropping) to.write(chunk);
      });
      from.on('error', () => to.destroy());
      from.on('close', () => (sockets.delete(from), to.destroy()));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    drop: (on) => (dropping = on),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
