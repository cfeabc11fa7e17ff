/**
 * Errors that reach a user, each with a stable code, the HTTP status the API answers with, and a
 * message that says what to do. `retryable` tells a client whether trying again can help.
 */
export const ERROR_CODES = {
  SPEC_INVALID: { status: 400, retryable: false },
  BAD_REQUEST: { status: 400, retryable: false },
  UNAUTHORIZED: { status: 401, retryable: false },
  FORBIDDEN: { status: 403, retryable: false },
  NOT_FOUND: { status: 404, retryable: false },
  /** A spec text past a limit (size, keys, nesting, aliases) or past the time allowed to read it. */
  SPEC_TOO_LARGE: { status: 413, retryable: false },
  CONFLICT: { status: 409, retryable: true },
  INTERNAL: { status: 500, retryable: true },
  /** Too much work queued (spec texts waiting to be read); try again in a moment. */
  BUSY: { status: 503, retryable: true },
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly detail: unknown;

  constructor(code: ErrorCode, message: string, detail?: unknown) {
    super(message);
    this.name = 'SluiceError';
    this.code = code;
    this.detail = detail;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

export const notFound = (service: string) =>
  new SluiceError('NOT_FOUND', `no service named "${service}"; apply a spec for it first (sluice apply -f FILE)`);
