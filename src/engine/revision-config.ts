import { targetConfigSchema } from '../drivers/registry.ts';
import type { TargetRevision } from '../drivers/targets/types.ts';
import { interpolate, type ServiceSpec } from '../spec/index.ts';
import type { StoredRevision } from '../store/types.ts';

/**
 * The target config of one revision: its template with `${version}` and `${service}` filled in,
 * validated by the driver's own schema.
 */
export function targetRevisionOf(rev: StoredRevision): { driver: string; revision: TargetRevision } {
  const spec = rev.spec as ServiceSpec;
  const raw = interpolate(spec.spec.target, { version: rev.version, service: rev.service });
  const config = targetConfigSchema(raw.driver).parse(raw);
  return { driver: raw.driver, revision: { key: rev.key, version: rev.version, config, baseDir: rev.baseDir } };
}
