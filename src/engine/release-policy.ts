import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parsePolicy, type ReleasePolicy } from '../spec/release-policy-schema.ts';
import type { WindowState } from '../core/windows/types.ts';
import { windowState } from '../core/windows/window-state.ts';
import { SluiceError } from '../errors.ts';

/** Where the server keeps the release policy applied with `sluice apply` (kind: ReleasePolicy). */
export const POLICY_FILE = 'release-policy.yaml';

/** The policy in `<data-dir>/release-policy.yaml`, read on each call (an edit needs no restart); null when absent. */
export async function readPolicy(dataDir: string): Promise<ReleasePolicy | null> {
  const path = join(dataDir, POLICY_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    return parsePolicy(text, path);
  } catch (err) {
    throw new SluiceError('SPEC_INVALID', (err as Error).message);
  }
}

/** Whether `service` may start a release now, and if not why and until when. No policy: always open. */
export async function releaseWindow(dataDir: string, service: string, now: number): Promise<WindowState> {
  const policy = await readPolicy(dataDir);
  if (policy === null) return { open: true, reason: 'no release policy', until: null };
  return windowState(policy.windows, policy.freezes, service, now);
}

/** Replace the server's release policy with `raw` (validated): written aside and renamed, so a reader never sees half of it. */
export async function writePolicy(dataDir: string, raw: unknown): Promise<void> {
  const path = join(dataDir, POLICY_FILE);
  await writeFile(`${path}.tmp`, stringify(raw), { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}
