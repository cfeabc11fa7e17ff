import type { TargetFactory } from '../types.ts';
import { processTargetConfig, type ProcessTargetConfig } from './config.ts';
import { ProcessTarget } from './process-target.ts';

export type { ProcessTargetConfig };

/** `driver: process`: runs each revision as local OS processes that outlive the controller. */
export const processTarget: TargetFactory<ProcessTargetConfig> = {
  config: processTargetConfig,
  create: (ctx) => new ProcessTarget(ctx),
};
