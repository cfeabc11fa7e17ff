/**
 * What an `instances` command prints: the revision's instances, as a JSON array or as JSON lines,
 * each `{"id": "a", "url": "http://10.0.0.5:8080"}` (id a string or a number, url http(s)).
 * Sluice names an instance `<revision>-<id>`. Pure.
 */
import { z } from 'zod';
import type { Instance } from '../../../core/types.ts';

const listedInstance = z.object({
  id: z.union([z.string().min(1), z.number()]).transform(String),
  url: z.url({ protocol: /^https?$/, error: 'url must be an http(s) URL, e.g. http://10.0.0.5:8080' }),
});

function describeIssue(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ');
}

/** Throws with the line (or array item) that is not an instance and what one looks like. */
export function parseInstances(stdout: string, revisionKey: string): Instance[] {
  const text = stdout.trim();
  if (text === '') return [];
  let items: Array<{ where: string; value: unknown }>;
  if (text.startsWith('[')) {
    let array: unknown;
    try {
      array = JSON.parse(text);
    } catch (err) {
      throw new Error(`the output starts with "[" but is not a JSON array: ${(err as Error).message}`);
    }
    if (!Array.isArray(array)) throw new Error('the output is not a JSON array');
    items = array.map((value, i) => ({ where: `item ${i}`, value }));
  } else {
    items = text.split('\n').flatMap((line, i) => {
      if (line.trim() === '') return [];
      try {
        return [{ where: `line ${i + 1}`, value: JSON.parse(line) as unknown }];
      } catch {
        throw new Error(
          `line ${i + 1} is not JSON: ${JSON.stringify(line.slice(0, 120))}; print one {"id": "…", "url": "http://…"} per line, or a JSON array of them`,
        );
      }
    });
  }
  const seen = new Set<string>();
  return items.map(({ where, value }) => {
    const parsed = listedInstance.safeParse(value);
    if (!parsed.success)
      throw new Error(
        `${where} is not an instance (${describeIssue(parsed.error)}); expected {"id": "…", "url": "http://…"}`,
      );
    const { id, url } = parsed.data;
    if (seen.has(id)) throw new Error(`${where}: instance id "${id}" is listed twice`);
    seen.add(id);
    return { id: `${revisionKey}-${id}`, url, detail: { id } };
  });
}
