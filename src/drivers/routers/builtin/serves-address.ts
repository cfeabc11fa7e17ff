/** A proxy serving `served` (host:port) serves the configured `listen` (port 0 in the config accepts any port). */
export function servesAddress(served: string, listen: string): boolean {
  if (served === listen) return true;
  return listen.endsWith(':0') && served.slice(0, served.lastIndexOf(':')) === listen.slice(0, -2);
}
