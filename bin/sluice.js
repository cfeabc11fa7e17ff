#!/usr/bin/env node
// The `sluice` command. Sluice needs Node >= 22.18 (it runs its TypeScript directly); when started
// by an older Node, it re-runs itself on the Node 24 the project pins as a dev dependency.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major > 22 || (major === 22 && minor >= 18)) {
  // Started by the launcher below: it holds an IPC channel to us, closed by the kernel however the
  // launcher ends (even SIGKILL). Then we stop as on SIGTERM: a server never outlives its launcher
  // unseen, holding the data dir's lock.
  if (process.env.SLUICE_LAUNCHER_PID !== undefined && process.channel) {
    process.channel.unref();
    process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  }
  await import(join(root, 'src/cli/main.ts'));
} else {
  const pinned = join(root, 'node_modules/node/bin/node');
  if (!existsSync(pinned)) {
    console.error(
      `sluice needs Node >= 22.18 (this is ${process.version}); run npm ci in ${root} to get the pinned Node 24`,
    );
    process.exit(2);
  }
  const child = spawn(pinned, [join(root, 'bin/sluice.js'), ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, SLUICE_LAUNCHER_PID: String(process.pid) },
  });
  child.channel?.unref();
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => (signal ? process.kill(process.pid, signal) : process.exit(code ?? 1)));
}
