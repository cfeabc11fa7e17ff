/**
 * A copy of a database in use, for a rehearsal: `pg_dump` of the source piped into `psql` on the
 * (empty) scratch database, both from PostgreSQL's client tools. Passwords go by environment
 * (PGPASSWORD), never on a command line another user's `ps` could read.
 */
import { spawn } from 'node:child_process';

const STDERR_LIMIT = 4096;

/** The URL without its password, and the password for PGPASSWORD. */
function split(url: string): { url: string; password: string | null } {
  const u = new URL(url);
  const password = u.password === '' ? null : decodeURIComponent(u.password);
  u.password = '';
  return { url: u.toString(), password };
}

function run(command: string, args: string[], password: string | null) {
  const env: NodeJS.ProcessEnv = { ...process.env, PGCONNECT_TIMEOUT: '10' };
  if (password !== null) env.PGPASSWORD = password;
  else delete env.PGPASSWORD;
  const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < STDERR_LIMIT) stderr += d.toString('utf8');
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (err) =>
      reject(new Error(`${command} could not be run (${err.message}); it comes with PostgreSQL's client tools`)),
    );
    child.on('close', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`${command} failed (${signal ?? `exit ${code}`}): ${stderr.trim().slice(0, 1000)}`)),
    );
  });
  return { child, done };
}

export async function dumpInto(sourceUrl: string, targetUrl: string): Promise<void> {
  const source = split(sourceUrl);
  const target = split(targetUrl);
  const dump = run('pg_dump', ['--no-owner', '--no-privileges', '--dbname', source.url], source.password);
  const restore = run(
    'psql',
    ['--quiet', '--no-psqlrc', '--set', 'ON_ERROR_STOP=1', '--dbname', target.url],
    target.password,
  );
  dump.child.stdout.pipe(restore.child.stdin);
  // A restore that stops early closes its input: the dump then fails with EPIPE, reported by its exit.
  restore.child.stdin.on('error', () => undefined);
  const [dumped, restored] = await Promise.allSettled([dump.done, restore.done]);
  if (dumped.status === 'rejected') throw dumped.reason as Error;
  if (restored.status === 'rejected') throw restored.reason as Error;
}
