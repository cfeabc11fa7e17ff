import type { TargetFactory } from '../types.ts';
import { staticTargetConfig, type StaticTargetConfig } from './config.ts';
import { StaticTarget } from './static-target.ts';

export type { StaticTargetConfig };

/** `driver: static`: versions already running somewhere, listed by URL. */
export const staticTarget: TargetFactory<StaticTargetConfig> = {
  config: staticTargetConfig,
  create: (ctx) => new StaticTarget(ctx),
};
