import { useEffect, useState } from 'react';
import { api, type Identity } from './api.ts';

let once: Promise<Identity | null> | null = null;

/** The token's holder and role, asked once per page load (undefined while loading or unknown). */
export function useIdentity(): Identity | null | undefined {
  const [id, setId] = useState<Identity | null | undefined>(undefined);
  useEffect(() => {
    once ??= api.whoami();
    let live = true;
    once.then(
      (v) => live && setId(v),
      () => live && setId(undefined),
    );
    return () => {
      live = false;
    };
  }, []);
  return id;
}

/** Roles that may send release commands (docs/access.md). */
export const CAN_STEER = new Set(['deployer', 'approver', 'admin']);
