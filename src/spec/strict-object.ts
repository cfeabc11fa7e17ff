import { z } from 'zod';

/**
 * An object schema that rejects unknown keys, naming them, a likely intended key and the valid
 * ones: a typo such as `rollbackcontract` silently ignored would release without a contract.
 * `invalid` may replace the message for a value that is not a map (undefined when missing).
 */
export function strictObject<S extends z.core.$ZodLooseShape>(shape: S, invalid?: (input: unknown) => string | undefined) {
  const valid = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === 'unrecognized_keys') return unknownFields(iss.keys, valid);
      if (invalid && iss.code === 'invalid_type') return invalid(iss.input);
      return undefined;
    },
  });
}

function unknownFields(keys: string[], valid: string[]): string {
  const named = keys.map((key) => `"${key}"${didYouMean(key, valid)}`).join(', ');
  return `unknown field${keys.length > 1 ? 's' : ''} ${named}; valid fields: ${valid.join(', ')}`;
}

/** Catches case and separator slips (`rollbackcontract`, `min_samples`), the usual typos. */
function didYouMean(key: string, valid: string[]): string {
  const loose = (text: string) => text.toLowerCase().replace(/[-_]/g, '');
  const match = valid.find((v) => loose(v) === loose(key));
  return match ? ` (did you mean "${match}"?)` : '';
}
