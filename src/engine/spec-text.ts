/**
 * The one way a submitted spec text becomes documents: `parseSpecText`, off the control loop,
 * with limits and a deadline (src/spec/spec-parser.ts), its failures as API errors. The API's
 * lint and apply and the CLI's lint use it; the result is passed on, never parsed again.
 */
import { SpecError, SpecLimitError, SpecParser, SpecParserBusyError, type SpecText } from '../spec/index.ts';
import { SluiceError } from '../errors.ts';

const parser = new SpecParser({ schemasModule: new URL('../drivers/registry.ts', import.meta.url) });

export type { SpecText };

/** `text` read from `file` (a name for messages): its documents, validated Services or policy. */
export async function parseSpecText(text: string, file: string): Promise<SpecText> {
  try {
    return await parser.parse(text, file);
  } catch (err) {
    if (err instanceof SpecError) throw new SluiceError('SPEC_INVALID', err.message, { issues: err.issues });
    if (err instanceof SpecLimitError)
      throw new SluiceError('SPEC_TOO_LARGE', err.message, { limit: err.limit, given: err.given, max: err.max });
    if (err instanceof SpecParserBusyError) throw new SluiceError('BUSY', err.message);
    throw err;
  }
}

/** The same read for the CLI, with the spec layer's errors (SpecError, SpecLimitError) as they are. */
export function readSpecText(text: string, file: string): Promise<SpecText> {
  return parser.parse(text, file);
}

/** Load a parse worker ahead of the first request (the server does at start). */
export function warmSpecParser(): Promise<void> {
  return parser.warm();
}

export function closeSpecParser(): Promise<void> {
  return parser.close();
}
