import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ERROR_CODES, SluiceError } from '../errors.ts';

/** The one body every error response has. */
export interface ErrorBody {
  error: { code: string; message: string; retryable: boolean; detail?: unknown };
}

function body(code: keyof typeof ERROR_CODES, message: string, detail?: unknown): ErrorBody {
  return { error: { code, message, retryable: ERROR_CODES[code].retryable, ...(detail !== undefined && { detail }) } };
}

/** Maps every error to a status and an ErrorBody; nothing reaches the client as a stack trace. */
export function errorHandler(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof SluiceError) {
    void reply.status(err.status).send(body(err.code, err.message, err.detail));
    return;
  }
  if (err instanceof z.ZodError) {
    const issues = err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    const message = issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; ');
    void reply.status(400).send(body('BAD_REQUEST', `invalid request: ${message}`, { issues }));
    return;
  }
  const status = (err as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    void reply.status(status).send(body(status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST', err.message));
    return;
  }
  req.log.error({ err }, 'request failed');
  void reply.status(500).send(body('INTERNAL', `internal error: ${err.message}`));
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): void {
  void reply.status(404).send(body('NOT_FOUND', `no route ${req.method} ${req.url}; see GET /api for the routes`));
}
