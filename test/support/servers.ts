/**
 * Tests that start a real server from Debian's packages (HAProxy, NGINX, Prometheus, Chromium)
 * skip, saying what to install, on a machine without it. CI sets SLUICE_TEST_SERVERS=required:
 * there a missing server fails the tests instead, so they can never pass by being skipped.
 */
import { accessSync, constants } from 'node:fs';

const PATHS = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin', ...(process.env.PATH ?? '').split(':')];

function installed(binary: string): boolean {
  return PATHS.some((dir) => {
    try {
      accessSync(`${dir}/${binary}`, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** A skip reason when `binary` is missing here (and CI does not require it), else false. */
export function withoutServer(binary: string, debianPackage: string): string | false {
  if (installed(binary) || process.env.SLUICE_TEST_SERVERS === 'required') return false;
  return `${binary} is not installed: apt-get install ${debianPackage} (bash .ci/run does)`;
}
