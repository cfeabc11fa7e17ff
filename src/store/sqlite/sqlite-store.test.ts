import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { storeConformance } from '../conformance.ts';
import { SqliteStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const paths = new WeakMap<object, string>();

storeConformance(
  'sqlite',
  async () => {
    const path = join(dir, `store-${++n}.db`);
    const store = new SqliteStore(path);
    paths.set(store, path);
    return store;
  },
  async (store) => {
    await store.close();
    return new SqliteStore(paths.get(store)!);
  },
);
