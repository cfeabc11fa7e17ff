import type { FastifyRequest } from 'fastify';
import { parseSpecText, type SpecText } from '../engine/index.ts';

const read = new WeakMap<FastifyRequest, Promise<SpecText>>();

/**
 * The spec text of a POST /api/apply body, read once (off the control loop) however many of the
 * apply hooks (policy, environments) and the route ask for it.
 */
export function specTextOf(req: FastifyRequest, body: { spec: string; file: string }): Promise<SpecText> {
  let text = read.get(req);
  if (text === undefined) {
    text = parseSpecText(body.spec, body.file);
    read.set(req, text);
  }
  return text;
}
