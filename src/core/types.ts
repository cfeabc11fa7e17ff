/**
 * The release domain, as plain data. Everything here is serialisable JSON: it is what the
 * event log stores and what the API returns. Times are epoch milliseconds; durations are ms.
 */

/** Where a service stands. */
export const PHASES = [
  /** No release in progress; the stable revision takes all traffic. */
  'Healthy',
  /** A release is moving through its steps. */
  'Progressing',
  /** A release waits: at an indefinite pause step, by a user's pause, or after inconclusive analysis. */
  'Paused',
  /** At 100% on the new revision for the verify window, still watched by the contract; a failure rolls back. */
  'Verifying',
  /** The last release failed its rollback contract and all traffic went back to stable. */
  'RolledBack',
  /** The last release was stopped by a user; all traffic went back to stable. */
  'Aborted',
  /** Sluice cannot keep the service as it should be (e.g. the stable revision cannot run). */
  'Degraded',
] as const;
export type Phase = (typeof PHASES)[number];

/** One step of a canary strategy, normalised from the spec. */
export type Step =
  | { kind: 'setWeight'; weight: number }
  /** `durationMs: null` waits until a user promotes. */
  | { kind: 'pause'; durationMs: number | null };

/** The metrics a rule can watch. Latency figures are in milliseconds, rates are 0..1. */
export const METRICS = [
  /** Share of requests answered with a counted status (default: 5xx and no answer); see `MetricRule.errors`. */
  'error_rate',
  /** Share of requests not answered with a counted status (default counted: 4xx, 5xx and no answer). */
  'success_rate',
  'latency_p50',
  'latency_p90',
  'latency_p95',
  'latency_p99',
  'latency_mean',
  'request_rate',
  'instance_crashes',
] as const;
export type MetricName = (typeof METRICS)[number];

/**
 * When a rule fails. `reference: 'baseline'` compares with the stable revision over the same
 * window: fail when canary > baseline × times + by (`above`) or canary < baseline × times − by
 * (`below`); `times` defaults to 1 and `by` to 0, and at least one of them is set. A numeric
 * reference is an absolute threshold.
 */
export interface Condition {
  op: 'above' | 'below';
  reference: 'baseline' | number;
  by?: number;
  times?: number;
}

/** What every rule has, whatever it watches. */
export interface RuleCommon {
  /** Unique within the contract; defaults to `<metric>` (suffixed when repeated). */
  name: string;
  /** Per-rule overrides of the contract's defaults. */
  minSamples?: number;
  consecutive?: number;
  failureLimit?: number | null;
}

/** A request metric the router's data plane measures per revision (the metrics provider's `collect`). */
export interface MetricRule extends RuleCommon {
  metric: MetricName;
  failIf: Condition;
  /**
   * error_rate and success_rate: which answers count as errors (absent: the metric's default,
   * DEFAULT_ERRORS). `5xx`, `4xx` … a class; `429` … one status; `connect`: no answer at all.
   */
  errors?: StatusClass[];
  /**
   * How the canary is judged: `sequential` (anytime-valid, on counts since the canary started),
   * `threshold` (on the window) or `mannWhitney` (Kayenta's test on one point per interval).
   */
  judge?: LiveJudge;
}

/** A status class a rate rule counts: `5xx`, `4xx` …, one status such as `429`, or `connect` (no answer). */
export type StatusClass = string;
export const STATUS_CLASS = /^(?:[1-5]xx|[1-5]\d\d|connect)$/;
/** What error_rate and success_rate count when a rule does not say. */
export const DEFAULT_ERRORS: Partial<Record<MetricName, readonly StatusClass[]>> = {
  error_rate: ['5xx', 'connect'],
  success_rate: ['4xx', '5xx', 'connect'],
};

export const LIVE_JUDGES = ['sequential', 'threshold', 'mannWhitney'] as const;
export type LiveJudge = (typeof LIVE_JUDGES)[number];
/** Metrics the sequential judge can test (rates on counts, latency quantiles on histograms). */
export const SEQUENTIAL_METRICS: readonly MetricName[] = [
  'error_rate',
  'success_rate',
  'latency_p50',
  'latency_p90',
  'latency_p95',
  'latency_p99',
];

/** A provider query (PromQL, an HTTP JSON endpoint) run for the canary and, for baseline rules, the stable revision. */
export interface QueryRule extends RuleCommon {
  metric: 'query';
  /** The query template: `${version}`, `${service}` and `${window}` are filled in per evaluation. */
  query: string;
  failIf: Condition;
}

/**
 * Multi-window error-budget burn rate on the canary (the SRE workbook's alerting form): fails
 * when, for any window pair, the canary burns its budget faster than `factor` over both the long
 * and the short window. Burn rate = error rate / (1 − objective).
 */
export interface BurnRateRule extends RuleCommon {
  metric: 'burn_rate';
  /** The SLO as a fraction, e.g. 0.999. */
  objective: number;
  windows: BurnWindow[];
}

export interface BurnWindow {
  longMs: number;
  shortMs: number;
  factor: number;
}

/** External signals (a complaint, a pager, a support ticket) posted to the API: fail at `count` within `withinMs`. */
export interface SignalRule extends RuleCommon {
  metric: 'signal';
  signal: string;
  count: number;
  withinMs: number;
}

export type Rule = MetricRule | QueryRule | BurnRateRule | SignalRule;

/** What a rule watches: a request metric, or one of the other kinds of rule. */
export type RuleMetric = Rule['metric'];

/** What happens when the metrics provider keeps failing: the release pauses (default) or rolls back. */
export interface MetricsErrorPolicy {
  /** Consecutive evaluations with a provider error before acting. */
  limit: number;
  action: 'pause' | 'rollback';
}

/** The explicit thresholds a release is held to for its whole life. */
export interface RollbackContract {
  /** How often each rule is evaluated. */
  intervalMs: number;
  /** The sliding window each evaluation measures, for canary and baseline alike. */
  windowMs: number;
  /** Canary (and baseline, for baseline rules) requests needed in the window for a verdict. */
  minSamples: number;
  /** A rule triggers a rollback after this many Fail verdicts in a row. */
  consecutive: number;
  /** A rule also triggers after more than this many Fail verdicts in total (null: no limit). */
  failureLimit: number | null;
  /** A rule Inconclusive for this long pauses the release. */
  maxInconclusiveMs: number;
  /** Requests per second the service is expected to receive (for `sluice lint`'s evidence check); absent: unknown. */
  expectedRps?: number;
  metricsErrors: MetricsErrorPolicy;
  /** A failed rule rolls back (default) or pauses the release at its weights. */
  onFail?: RollbackModes['onFail'];
  /** How traffic goes back: at once (default), or in steps (refused for a canary failing nearly every request). */
  revert?: RevertMode;
  rules: Rule[];
}

export type VerdictOutcome = 'Pass' | 'Fail' | 'Inconclusive';

/** One rule's judgement, with the figures that decided it. */
export interface Verdict {
  rule: string;
  metric: RuleMetric;
  outcome: VerdictOutcome;
  /** The canary's value, if measured. */
  canary: number | null;
  /** The baseline's value, for baseline rules. */
  baseline: number | null;
  /** The value the canary was compared with. */
  threshold: number | null;
  canarySamples: number;
  baselineSamples: number;
  /** A sentence a person can read at 3 a.m. */
  reason: string;
  at: number;
  /** The judge that decided (absent: threshold) and, for the sequential judge, its evidence. */
  judge?: LiveJudge;
  evidence?: { eValue: number; eThreshold: number; alpha: number };
  /**
   * The evidence in plain figures: the canary's confidence bound on the side that decides, and
   * what the rule allows there. A Pass of an `above` rule shows "canary at most `value`, allowed
   * at most `allowed`"; a Fail shows "at least". Absent where a rule has no bound (queries, signals).
   */
  bound?: EvidenceBound;
  /** Inconclusive: how much more data a decision is expected to need at the current traffic. */
  needs?: EvidenceNeeds;
}

export interface EvidenceBound {
  /** `atMost`: the canary's value is at most `value`; `atLeast`: at least. */
  side: 'atMost' | 'atLeast';
  value: number;
  /** What the rule allows on that side (at most for `above` rules, at least for `below`). */
  allowed: number;
  /** The confidence of the bound, e.g. 0.995. */
  confidence: number;
}

export interface EvidenceNeeds {
  /** More canary requests a Pass is expected to need if the canary keeps its current figures; null: it will not pass at them. */
  canaryRequests: number | null;
  /** The canary's request rate at the current weight (null: not known yet). */
  canaryRps: number | null;
  /** canaryRequests / canaryRps (null when either is unknown). */
  seconds: number | null;
}

/** A log-bucketed latency histogram: bucket index → count (see histogram.ts). */
export type HistogramCounts = Record<number, number>;

/**
 * Responses by status: the three-digit code as a string ("200", "404", "503") and `connect` for a
 * request that got no answer (refused, reset, timed out). Rules pick the statuses they count.
 */
export type StatusCounts = Record<string, number>;

/** What a metrics provider saw for one version over a window. */
export interface WindowStats {
  requests: number;
  /** 5xx responses and connection failures (what error_rate counts by default). */
  errors: number;
  latency: HistogramCounts;
  windowMs: number;
  /** The same requests by status (absent: the provider does not tell statuses apart). */
  statuses?: StatusCounts;
}

/**
 * Counters since the data plane started, like Prometheus counters: they only grow, and `since`
 * changes when they restart from zero. The sequential judge accumulates their increments.
 */
export interface RequestTotals {
  requests: number;
  errors: number;
  latency: HistogramCounts;
  since: number;
  /** By status, as in WindowStats (absent: not told apart). */
  statuses?: StatusCounts;
}

/** A provider never reports zero for "I have nothing": it says noData, or error. */
export type Measurement =
  | { kind: 'stats'; stats: WindowStats; totals?: RequestTotals }
  | { kind: 'noData' }
  | { kind: 'error'; message: string };

/** The value of one query rule (PromQL, an HTTP endpoint) for one version over a window. */
export type QueryResult = { kind: 'value'; value: number } | { kind: 'noData' } | { kind: 'error'; message: string };

/** A running instance of a revision, as its target driver reports it. */
export interface Instance {
  id: string;
  /** Base URL the router sends traffic to, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Driver-specific facts needed to re-adopt it after a controller restart (pid, port …). */
  detail?: Record<string, string | number>;
}

/** Percent of traffic per revision key; the values sum to 100. */
export type Weights = Record<string, number>;

/** The record of one rollback: why, on what figures, and how long it took. */
export interface RollbackLog {
  /** 'contract' for an automatic rollback, 'abort' / 'undo' for a user's, 'readiness' / 'crash' for a target failure. */
  kind: 'contract' | 'abort' | 'readiness' | 'crash';
  /** The rule (or command / failure) that triggered it. */
  trigger: string;
  reason: string;
  verdicts: Verdict[];
  actor: string;
  detectedAt: number;
  trafficRevertedAt: number | null;
  canaryStoppedAt: number | null;
  /** trafficRevertedAt − detectedAt. */
  revertMs: number | null;
  /**
   * A router over several hosts: when each host confirmed the revert (null: not yet; it is retried).
   * `trafficRevertedAt` is when the last one did.
   */
  hosts?: Record<string, number | null>;
}

/** How traffic leaves a failed canary: all at once, or down a staircase of weights. */
export type RevertMode = { kind: 'instant' } | { kind: 'gradual'; steps: number[]; intervalMs: number };

/** What a contract failure does: roll back (by `revert`), or pause for a person at the current weights. */
export interface RollbackModes {
  onFail: 'rollback' | 'pause';
  revert: RevertMode;
}
