import { z } from 'zod';
import { closestName, didYouMean } from './did-you-mean.ts';

/**
 * An object schema that rejects unknown keys, naming each, a likely intended key and the valid
 * ones: a typo such as `rollbackcontract` silently ignored would release without a contract.
 * `invalid` may replace the message for a value that is not a map (undefined when missing).
 *
 * Each unknown key is an issue at its own path, so it points at the key; unlike zod's
 * `unrecognized_keys` it stops the object's transform, which would otherwise report a second,
 * misleading problem (a step with `setWeigth` is not also "a step without setWeight").
 */
export function strictObject<S extends z.core.$ZodLooseShape>(
  shape: S,
  invalid?: (input: unknown) => string | undefined,
) {
  const valid = Object.keys(shape);
  const unknownField = z.custom<never>(() => false, {
    params: { unknownField: true },
    abort: false, // the object's own checks (dropMissingMeant) still run
    error: (iss) => {
      const key = String(iss.path?.at(-1) ?? '');
      return `unknown field "${key}"${didYouMean(key, valid)}; valid fields: ${valid.join(', ')}`;
    },
  });
  unknownFieldSchemas.add(unknownField);
  const object = z
    .object(shape, {
      error: (iss) => (invalid && iss.code === 'invalid_type' ? invalid(iss.input) : undefined),
    })
    .catchall(unknownField)
    .superRefine((_, ctx) => dropMissingMeant(ctx.issues, valid), { when: () => true });
  // Typed as zod's strict object: no extra keys in the output (a catchall of never would add an index signature).
  return object as unknown as z.ZodObject<S, z.core.$strict>;
}

/**
 * A misspelt key (`rollbackcontract`) also leaves the key it meant missing; the unknown field's
 * "did you mean" already says so, so the second message ("is required") is dropped.
 */
function dropMissingMeant(issues: z.core.$ZodRawIssue[], valid: string[]): void {
  const meant = new Set<PropertyKey>();
  for (const issue of issues) {
    if (issue.code !== 'custom' || issue.params?.['unknownField'] !== true || issue.path?.length !== 1) continue;
    const likely = closestName(String(issue.path[0]), valid);
    if (likely !== undefined) meant.add(likely);
  }
  if (meant.size === 0) return;
  const kept = issues.filter(
    (issue) => !(issue.path?.length === 1 && meant.has(issue.path[0]!) && issue.input === undefined),
  );
  issues.splice(0, issues.length, ...kept);
}

/** Kept across clones (`.describe()` …): a clone shares its definition's catchall. */
const unknownFieldSchemas = new WeakSet<object>();

/** True for the issue of an unknown key (positioned on the key, not its value). */
export function isUnknownFieldIssue(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'unrecognized_keys' || (issue.code === 'custom' && issue.params?.['unknownField'] === true);
}

/** `z.toJSONSchema` override: objects made by strictObject allow no other properties. */
export function closeStrictObjects(ctx: { zodSchema: z.core.$ZodType; jsonSchema: Record<string, unknown> }): void {
  const def = ctx.zodSchema._zod.def as { type: string; catchall?: object };
  if (def.type === 'object' && def.catchall !== undefined && unknownFieldSchemas.has(def.catchall)) {
    ctx.jsonSchema['additionalProperties'] = false;
  }
}
