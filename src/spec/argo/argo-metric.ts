/**
 * One Argo metric (arguments already filled in) as one Sluice query rule, with the provider it
 * needs and the timing fields the contract takes from it; or a note saying why it does not carry
 * over. Prometheus and web providers map; the others (a Kubernetes Job, Datadog, Kayenta …) do not.
 */
import {
  complementary,
  failIfFromFailure,
  failIfFromSuccess,
  parseCondition,
  type FailIf,
  type ParsedCondition,
} from './argo-condition.ts';
import { isRaw, valueAt, type Path, type Raw, type SourceMarks } from './argo-source.ts';
import { parseGoDuration, parseInteger } from './argo-values.ts';

export type MetricsSource = { provider: 'prometheus'; address: string } | { provider: 'web'; address: string };

export interface ImportedRule {
  rule: Raw;
  /** Where the metric is written, for notes about it. */
  from: { marks: SourceMarks; path: Path };
  source: MetricsSource;
  timeoutMs?: number;
  intervalMs?: number;
  /** Measurements Argo takes (`count`); undefined: until the analysis ends. */
  count?: number;
  consecutiveErrorLimit: number;
  inconclusiveLimit?: number;
  /** Request headers without credentials, for spec.metrics.headers. */
  headers?: Record<string, string>;
}

/** Header names Sluice takes only as secret references (docs/security.md). */
const CREDENTIAL = /^(authorization|cookie|x-api-key)$|token|secret|password|auth|key/i;

const SELECTOR = /^\$(?:\.[A-Za-z_$][\w$-]*|\[-?\d+\]|\['[^']*'\]|\["[^"]*"\])*$/;

/** Providers Sluice has no driver for, with what to do instead. */
const OTHER_PROVIDERS: Record<string, string> = {
  job: 'a Kubernetes Job provider: Sluice runs no Jobs; a check that must pass before the next step is a smoke step (smoke: { command: [...] }, docs/strategies.md)',
  datadog: "Datadog: write it as a web query rule against Datadog's query API (docs/metrics.md, web)",
  newRelic: 'New Relic: no Sluice driver; a web query rule against its API may do',
  wavefront: 'Wavefront: no Sluice driver; a web query rule against its API may do',
  kayenta: 'Kayenta: Sluice compares canary and baseline itself (judge: mannWhitney, docs/judges.md)',
  cloudWatch: 'CloudWatch: no Sluice driver; a web query rule through a proxy may do',
  graphite: 'Graphite: its render API answers JSON: a web query rule may do',
  influxdb: 'InfluxDB: no Sluice driver',
  skywalking: 'SkyWalking: no Sluice driver',
  plugin: 'a metric plugin: no Sluice driver',
};

type Outcome = ImportedRule | { dropped: string };

/**
 * `filled` is the metric at `path` in `marks`' document with its args filled in. Fields read are
 * marked; fields that do not carry over are noted here, dropping the rule says why in the result.
 */
export function importMetric(marks: SourceMarks, path: Path, filled: Raw): Outcome {
  const get = (rel: Path) => valueAt(filled, rel);
  const use = (rel: Path) => {
    marks.use([...path, ...rel]);
    return get(rel);
  };
  const name = String(use(['name']) ?? '');
  const provider = isRaw(get(['provider'])) ? (get(['provider']) as Raw) : {};
  const kinds = Object.keys(provider);
  const kind = kinds[0];
  if (kinds.length !== 1 || kind === undefined)
    return { dropped: `metric ${name}: expected one provider, got ${kinds.length === 0 ? 'none' : kinds.join(', ')}` };
  if (kind !== 'prometheus' && kind !== 'web')
    return { dropped: `metric ${name}: ${OTHER_PROVIDERS[kind] ?? `provider ${kind}: no Sluice driver`}` };

  // Conditions → failIf.
  const parsed: { success?: ParsedCondition; failure?: ParsedCondition } = {};
  for (const key of ['successCondition', 'failureCondition'] as const) {
    const text = get([key]);
    if (text === undefined) continue;
    const c = parseCondition(String(text));
    if ('refused' in c) return { dropped: `metric ${name}: ${key} ${c.refused}` };
    parsed[key === 'successCondition' ? 'success' : 'failure'] = c;
  }
  const { success, failure } = parsed;
  if (success === undefined && failure === undefined)
    return {
      dropped: `metric ${name}: no successCondition or failureCondition: Argo records it as Inconclusive every time, and a Sluice rule needs a threshold`,
    };
  const condition = failure ?? success!;
  const mapped: FailIf = failure !== undefined ? failIfFromFailure(failure) : failIfFromSuccess(success!);
  use(['successCondition']);
  use(['failureCondition']);
  if (success !== undefined && failure !== undefined && !complementary(success, failure)) {
    marks.note(
      'changed',
      [...path, 'successCondition'],
      `Sluice fails the rule on the failureCondition and passes it otherwise; Argo's Inconclusive, between "${String(get(['successCondition']))}" and "${String(get(['failureCondition']))}", is a Pass in Sluice`,
    );
  }
  if (mapped.boundary !== undefined)
    marks.note('changed', [...path, failure !== undefined ? 'failureCondition' : 'successCondition'], mapped.boundary);

  // The provider → a query and where it runs.
  const at = (rel: Path) => [...path, 'provider', kind, ...rel];
  const p = provider[kind] as Raw;
  let source: MetricsSource;
  let query: string;
  let timeoutMs: number | undefined;
  if (kind === 'prometheus') {
    if (p.rangeQuery !== undefined)
      return { dropped: `metric ${name}: rangeQuery: Sluice asks Prometheus instant queries only` };
    if (condition.selector !== '' && condition.selector !== '[0]')
      return {
        dropped: `metric ${name}: the condition reads result${condition.selector}; Sluice reads a Prometheus answer as one number (result or result[0])`,
      };
    marks.use(at(['address']));
    marks.use(at(['query']));
    if (typeof p.address !== 'string' || typeof p.query !== 'string')
      return { dropped: `metric ${name}: prometheus needs address and query` };
    source = { provider: 'prometheus', address: p.address.replaceAll('$${', '${') };
    query = p.query.trim();
    if (p.timeout !== undefined) {
      marks.use(at(['timeout']));
      timeoutMs = (parseInteger(p.timeout) ?? 0) * 1000 || undefined;
    }
  } else {
    const method = String(p.method ?? 'GET').toUpperCase();
    if (method !== 'GET') return { dropped: `metric ${name}: method ${method}: Sluice's web provider sends GET only` };
    marks.use(at(['method']));
    marks.use(at(['url']));
    if (typeof p.url !== 'string' || !/^https?:\/\//.test(p.url))
      return { dropped: `metric ${name}: url ${JSON.stringify(p.url)} is not an http(s) URL` };
    const jsonPath =
      p.jsonPath === undefined
        ? '$'
        : String(p.jsonPath)
            .trim()
            .replace(/^\{(.*)\}$/s, '$1')
            .trim();
    marks.use(at(['jsonPath']));
    const selector = jsonPath + condition.selector;
    if (!SELECTOR.test(selector))
      return {
        dropped: `metric ${name}: jsonPath ${selector} is beyond Sluice's selectors ($, .field, [n], ['field'], docs/metrics.md)`,
      };
    source = { provider: 'web', address: new URL(p.url.replaceAll('$${', '${')).origin };
    query = `${p.url} | ${selector}`;
    if (p.timeoutSeconds !== undefined) {
      marks.use(at(['timeoutSeconds']));
      timeoutMs = (parseInteger(p.timeoutSeconds) ?? 0) * 1000 || undefined;
    }
  }
  const headers: Record<string, string> = {};
  (Array.isArray(p.headers) ? p.headers : []).forEach((h: unknown, i) => {
    if (!isRaw(h) || typeof h.key !== 'string' || typeof h.value !== 'string') return;
    if (CREDENTIAL.test(h.key)) {
      marks.note(
        'dropped',
        at(['headers', i]),
        `header ${h.key} carries a credential: give it once in spec.metrics.headers as a reference, { secretEnv: NAME } or { secretFile: /path } (docs/security.md); Sluice refuses a literal credential`,
      );
    } else {
      marks.use(at(['headers', i]));
      headers[h.key] = h.value.replaceAll('$${', '${');
    }
  });
  if (p.authentication !== undefined)
    marks.note(
      'dropped',
      at(['authentication']),
      'SigV4 and OAuth2 are not Sluice provider settings: a credential header as { secretEnv: NAME } in spec.metrics.headers, or a proxy that signs, may do',
    );
  if (p.insecure === true) marks.note('dropped', at(['insecure']), 'Sluice always verifies TLS certificates');

  // Limits and timing.
  const rule: Raw = { name, query, failIf: mapped.failIf };
  const failureLimit = parseInteger(use(['failureLimit']) ?? 0);
  if (failureLimit !== null && failureLimit >= 0) {
    // Argo fails the analysis after more than failureLimit failed measurements, in a row or not.
    if (failureLimit > 0) Object.assign(rule, { consecutive: failureLimit + 1, failureLimit });
  } else {
    marks.note(
      'dropped',
      [...path, 'failureLimit'],
      `failureLimit ${String(get(['failureLimit']))} (no limit): a Sluice rule always fails after its limit; it keeps the default, the first Fail`,
    );
  }
  const out: ImportedRule = {
    rule,
    from: { marks, path },
    source,
    consecutiveErrorLimit: parseInteger(use(['consecutiveErrorLimit']) ?? 4) ?? 4,
  };
  if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
  if (Object.keys(headers).length > 0) out.headers = headers;
  const interval = get(['interval']);
  if (interval !== undefined) {
    const ms = parseGoDuration(interval);
    if (ms === null || ms <= 0)
      marks.note('dropped', [...path, 'interval'], `"${String(interval)}" is not a Go duration such as 30s or 1m30s`);
    else {
      marks.use([...path, 'interval']);
      out.intervalMs = ms;
    }
  }
  const count = get(['count']);
  if (count !== undefined) {
    const n = parseInteger(count);
    if (n === null || n < 0) marks.note('dropped', [...path, 'count'], `"${String(count)}" is not a count`);
    else {
      marks.use([...path, 'count']);
      if (n > 0) out.count = n;
    }
  }
  const inconclusive = get(['inconclusiveLimit']);
  if (inconclusive !== undefined) {
    const n = parseInteger(inconclusive);
    if (n !== null && n >= 0) {
      marks.use([...path, 'inconclusiveLimit']);
      out.inconclusiveLimit = n;
    }
  }
  if (get(['initialDelay']) !== undefined)
    marks.note(
      'dropped',
      [...path, 'initialDelay'],
      'Sluice evaluates from the start; a rule needs minSamples or a Pass at the current weight before a step moves on',
    );
  if (use(['consecutiveSuccessLimit']) !== undefined)
    marks.note(
      'changed',
      [...path, 'consecutiveSuccessLimit'],
      "Sluice moves a step on when every rule's latest verdict is Pass at the current weight; there is no count of successes",
    );
  return out;
}
