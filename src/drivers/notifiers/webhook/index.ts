import type { NotifierFactory } from '../types.ts';
import { webhookNotifierConfig, type WebhookNotifierConfig } from './config.ts';
import { WebhookNotifier } from './webhook-notifier.ts';

export { webhookNotifierConfig, type WebhookNotifierConfig };
export { signature, verifySignature, SIGNATURE_HEADER } from './signature.ts';

/**
 * `driver: webhook`. Throws at creation when `secretEnv` names a variable the server does not
 * have: a notifier that was asked to sign must not post unsigned.
 */
export const webhookNotifier: NotifierFactory<WebhookNotifierConfig> = {
  config: webhookNotifierConfig,
  create: (config, ctx) => {
    let secret = config.secret;
    if (config.secretEnv !== undefined) {
      secret = process.env[config.secretEnv];
      if (secret === undefined || secret === '') {
        throw new Error(`webhook notifier for service "${ctx.service}": secretEnv ${config.secretEnv} is not set in the Sluice server's environment`);
      }
    }
    return new WebhookNotifier(config, ctx, secret);
  },
};
