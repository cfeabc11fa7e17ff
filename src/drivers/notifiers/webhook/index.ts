import { resolveSecret } from '../../secrets.ts';
import type { NotifierFactory } from '../types.ts';
import { webhookNotifierConfig, type WebhookNotifierConfig } from './config.ts';
import { WebhookNotifier } from './webhook-notifier.ts';

export { webhookNotifierConfig, type WebhookNotifierConfig };
export { signature, verifySignature, SIGNATURE_HEADER } from './signature.ts';

/**
 * `driver: webhook`. Throws at creation when `secretEnv` or `secretFile` names a secret the
 * server does not have: a notifier that was asked to sign must not post unsigned.
 */
export const webhookNotifier: NotifierFactory<WebhookNotifierConfig> = {
  config: webhookNotifierConfig,
  create: (config, ctx) => {
    const ref =
      config.secretEnv !== undefined
        ? { secretEnv: config.secretEnv }
        : config.secretFile !== undefined
          ? { secretFile: config.secretFile }
          : null;
    let secret: string | undefined;
    try {
      secret = ref === null ? undefined : resolveSecret(ref);
    } catch (err) {
      throw new Error(`webhook notifier for service "${ctx.service}": ${(err as Error).message}`);
    }
    return new WebhookNotifier(config, ctx, secret);
  },
};
