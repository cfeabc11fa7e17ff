import type { TargetFactory } from '../types.ts';
import { CommandTarget } from './command-target.ts';
import { commandTargetConfig, type CommandTargetConfig } from './config.ts';

export { commandTargetConfig, type CommandTargetConfig };
export { parseInstances } from './instances-output.ts';

/** `driver: command`: deploy/undeploy/instances commands for VMs, Nomad, ECS or any CLI. */
export const commandTarget: TargetFactory<CommandTargetConfig> = {
  config: commandTargetConfig,
  create: (ctx) => new CommandTarget(ctx),
};
