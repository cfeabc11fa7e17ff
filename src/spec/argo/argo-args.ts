/**
 * An analysis's arguments: the template's declared args (with defaults), the values the Rollout
 * passes, and `{{args.name}}` filled into the metric. What Argo resolves from the cluster becomes
 * a Sluice placeholder where one means the same thing (the new version's pod hash → `${version}`),
 * a value read from the Rollout (`fieldRef: metadata.labels['app']`), or a reason it cannot be. Pure.
 */
import { isRaw, valueAt, type Raw } from './argo-source.ts';

/** A resolved argument: text to put in, or why there is none. */
export type ArgValue = { text: string } | { refused: string };

const VERSION: ArgValue = { text: '${version}' };

/** `metadata.name`, `metadata.labels['app']`, `metadata.annotations["x"]` of the Rollout. */
function fieldRef(rollout: Raw, fieldPath: string): ArgValue {
  const m = /^metadata\.(name|namespace|uid)$|^metadata\.(labels|annotations)\[['"]([^'"]+)['"]\]$/.exec(
    fieldPath.trim(),
  );
  const value =
    m === null
      ? undefined
      : m[1] !== undefined
        ? valueAt(rollout, ['metadata', m[1]])
        : valueAt(rollout, ['metadata', m[2]!, m[3]!]);
  if (typeof value === 'string' || typeof value === 'number') return { text: escapeSluice(String(value)) };
  return {
    refused: `fieldRef ${fieldPath} is not written in the Rollout (the importer reads metadata.name, metadata.namespace, metadata.labels['…'] and metadata.annotations['…'] from it)`,
  };
}

/** One arg's `value` or `valueFrom`, as far as it can be known outside Kubernetes. */
export function argValue(arg: Raw, rollout: Raw): ArgValue | undefined {
  if (arg.value !== undefined && arg.value !== null) return { text: escapeSluice(String(arg.value)) };
  const from = arg.valueFrom;
  if (!isRaw(from)) return undefined;
  if (from.podTemplateHashValue === 'Latest') return VERSION;
  if (from.podTemplateHashValue === 'Stable') {
    return {
      refused:
        'podTemplateHashValue: Stable names the stable version in the same query; Sluice runs a query once per version with ${version}: compare with failIf: { above: baseline, … } instead',
    };
  }
  if (isRaw(from.fieldRef) && typeof from.fieldRef.fieldPath === 'string')
    return fieldRef(rollout, from.fieldRef.fieldPath);
  if (isRaw(from.secretKeyRef)) {
    return {
      refused: `secretKeyRef (Kubernetes Secret ${String(from.secretKeyRef.name)}, key ${String(from.secretKeyRef.key)}): write the value, or a credential header as { secretEnv: NAME } in spec.metrics.headers (docs/security.md)`,
    };
  }
  return { refused: `valueFrom ${JSON.stringify(from)} cannot be read outside Kubernetes` };
}

/** `${` written in Argo text is literal; Sluice reads `${…}` as a placeholder unless written `$${…}`. */
export function escapeSluice(text: string): string {
  return text.replaceAll('${', () => '$${');
}

const PLACEHOLDER = /\{\{\s*([^{}]+?)\s*\}\}/g;

/** Fills `{{args.x}}` and `{{templates.NAME.podTemplateHash}}`; a placeholder without a value refuses the whole text. */
export function fillText(
  text: string,
  values: Map<string, ArgValue>,
  escape = true,
): { text: string } | { refused: string } {
  let refused: string | undefined;
  const filled = (escape ? escapeSluice(text) : text).replace(PLACEHOLDER, (whole, key: string) => {
    const value = values.get(key);
    if (value === undefined) refused ??= `${whole} has no value: pass it in the Rollout's args`;
    else if ('refused' in value) refused ??= `${whole}: ${value.refused}`;
    else return value.text;
    return whole;
  });
  return refused === undefined ? { text: filled } : { refused };
}

/** Every string in `value` filled; the first refusal wins. */
export function fillDeep(value: unknown, values: Map<string, ArgValue>): { value: unknown } | { refused: string } {
  if (typeof value === 'string') {
    const r = fillText(value, values);
    return 'refused' in r ? r : { value: r.text };
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) {
      const r = fillDeep(item, values);
      if ('refused' in r) return r;
      out.push(r.value);
    }
    return { value: out };
  }
  if (isRaw(value)) {
    const out: Raw = {};
    for (const [k, v] of Object.entries(value)) {
      const r = fillDeep(v, values);
      if ('refused' in r) return r;
      out[k] = r.value;
    }
    return { value: out };
  }
  return { value };
}

/** A filled string read back as Argo wrote it (for numbers and durations: no `$${` escapes matter there). */
export function unescapeSluice(text: string): string {
  return text.replaceAll('$${', '${');
}
