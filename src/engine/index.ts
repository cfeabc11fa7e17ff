/**
 * What the API builds a server from and calls into: the engine's public module. The API imports the
 * engine only through this file (eslint.config.js); what is not exported here is the engine's own.
 */
export { ApplyEntry, type Applicant } from './apply-entry.ts';
export { diffDocuments } from './effective-spec.ts';
export { Engine } from './engine.ts';
export { Environments, ForbiddenError, type Principal } from './environments.ts';
export { EventBus } from './event-bus.ts';
export { NotificationHub } from './notifications.ts';
export { followPolicies } from './policy-follower.ts';
export { POLICY_FILE, readPolicy } from './release-policy.ts';
export { serverLog, type RecordServerEvents } from './server-log.ts';
export { readServerPolicy, serverPolicySchema, writeServerPolicy } from './server-policy.ts';
export { closeSpecParser, parseSpecText, warmSpecParser, type SpecText } from './spec-text.ts';
