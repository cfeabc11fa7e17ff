/** A usage error: exit code 2 with the command's usage. */
export class UsageError extends Error {}
