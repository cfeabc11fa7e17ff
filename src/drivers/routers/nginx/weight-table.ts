/**
 * NGINX weights without a reload: a table on disk that nginx reads per request. Every request
 * falls in one of 1,000 buckets (`split_clients` on the sticky key, or on `$request_id`), and the
 * bucket's backend is the one whose folder holds a file named after the bucket (`if (-f …)`, a
 * stat per request; `open_file_cache` stays off). Backends are laid out in table order, so the
 * first w% of buckets are the canary's and a sticky user stays on the canary as w grows. A weight
 * change creates the files of the buckets a backend gains before it removes those it loses: at no
 * moment is a bucket without a backend, and no nginx process is reloaded.
 *
 * Folders: `<root>/weights/g<generation>/<backend index>/<bucket>`; a new config generation gets a
 * new folder, written before the reload, so the running config never reads another layout. The
 * root is in shared memory (`/dev/shm`, else the temp dir), readable by nginx's workers, which run
 * as `nobody` when the master is root and could not enter a private data dir.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouteTable } from '../types.ts';

export const BUCKETS = 1000;

/** The backend (index in the table) of each bucket: contiguous ranges in table order. */
export function bucketOwners(table: RouteTable): number[] {
  const owners = new Array<number>(BUCKETS);
  let sum = 0;
  let start = 0;
  table.backends.forEach((b, i) => {
    sum += b.weight;
    const end = i === table.backends.length - 1 ? BUCKETS : Math.min(BUCKETS, Math.round((sum / 100) * BUCKETS));
    for (let k = start; k < end; k++) owners[k] = i;
    start = Math.max(start, end);
  });
  return owners;
}

/** The backend serving buckets that have no file: the first one with endpoints. */
export const defaultBackend = (table: RouteTable) =>
  Math.max(
    0,
    table.backends.findIndex((b) => b.endpoints.length > 0),
  );

export const generationDir = (root: string, generation: number) => join(root, 'weights', `g${generation}`);

/** The weight table's root for the nginx of `dir` (one per router folder). */
export function weightTableRoot(dir: string): string {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  return join(base, `sluice-nginx-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`);
}

/** Creates the root, or checks that the one there is ours (not a link, not another user's). */
async function ownRoot(root: string): Promise<void> {
  await mkdir(root, { recursive: true, mode: 0o755 });
  const st = await lstat(root);
  if (!st.isDirectory() || (process.getuid !== undefined && st.uid !== process.getuid())) {
    throw new Error(`${root} is not a folder of this user; remove it so Sluice can keep nginx's weight table there`);
  }
}

export async function removeWeightTable(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
}

async function list(folder: string): Promise<Set<string>> {
  try {
    return new Set(await readdir(folder));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw err;
  }
}

/** Make the folders of `generation` say the table's weights: gains first, then losses. */
export async function writeWeights(tableRoot: string, generation: number, table: RouteTable): Promise<void> {
  await ownRoot(tableRoot);
  const root = generationDir(tableRoot, generation);
  const owners = bucketOwners(table);
  const fallback = defaultBackend(table);
  const folders = table.backends.map((_, i) => join(root, String(i)));
  await Promise.all(folders.map((f) => mkdir(f, { recursive: true, mode: 0o755 })));
  const present = await Promise.all(folders.map(list));
  const gains: string[] = [];
  const losses: string[] = [];
  folders.forEach((folder, i) => {
    for (let k = 0; k < BUCKETS; k++) {
      const wanted = owners[k] === i && i !== fallback;
      const has = present[i]!.has(String(k));
      if (wanted && !has) gains.push(join(folder, String(k)));
      if (!wanted && has) losses.push(join(folder, String(k)));
    }
  });
  await Promise.all(gains.map((f) => writeFile(f, '', { mode: 0o644 })));
  await Promise.all(losses.map((f) => rm(f, { force: true })));
}

/** The weights the folders of `generation` say now (percent per backend index). */
export async function readWeights(dir: string, generation: number, table: RouteTable): Promise<number[]> {
  const root = generationDir(dir, generation);
  const fallback = defaultBackend(table);
  const counts = await Promise.all(
    table.backends.map(async (_, i) =>
      i === fallback
        ? 0
        : [...(await list(join(root, String(i))))].filter((n) => /^\d+$/.test(n) && Number(n) < BUCKETS).length,
    ),
  );
  const others = counts.reduce((a, b) => a + b, 0);
  counts[fallback] = BUCKETS - others;
  return counts.map((n) => (n * 100) / BUCKETS);
}

/** Remove the folders of every generation but `keep`. */
export async function pruneWeights(dir: string, keep: number): Promise<void> {
  const root = join(dir, 'weights');
  const names = [...(await list(root))].filter((n) => n !== `g${keep}`);
  await Promise.all(names.map((n) => rm(join(root, n), { recursive: true, force: true })));
}
