import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { freeListenPort, freePort } from './free-port.ts';

test('a listen port is picked below the ephemeral range, where port-0 binds (instances) never land', async () => {
  const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [
    number,
  ];
  const ephemeral = await freePort();
  assert.ok(ephemeral >= low, `port 0 gave ${ephemeral}, inside the ephemeral range from ${low}`);
  for (let i = 0; i < 20; i++) {
    const port = await freeListenPort();
    assert.ok(port >= 10_000 && port < low, `${port} is below ${low}`);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
