/**
 * Argo's `successCondition` / `failureCondition` (expr-lang expressions over `result`) as a Sluice
 * `failIf`, for the comparisons a threshold can hold: `result[0] >= 0.95`, `asFloat(result) < 5`,
 * `0.05 > result.errorRate`. Anything else (`&&`, `isNaN`, `len`, `==` …) is refused with the
 * reason, and the rule is reported rather than guessed. Pure.
 */

export type Comparison = '>' | '>=' | '<' | '<=';

/** A comparison of `result` (through `selector`, e.g. `[0]`, `.data.ok`) with a number. */
export interface ParsedCondition {
  /** What follows `result`: `''`, `[0]`, `.successPercent` … */
  selector: string;
  op: Comparison;
  value: number;
}

const NUMBER = String.raw`-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?`;
const RESULT = String.raw`(?:(?:asFloat|asInt|float|int)\(\s*)?result((?:\[\d+\]|\.[A-Za-z_][\w]*)*)(?:\s*\))?`;
const OP = String.raw`(>=|<=|>|<)`;
const RESULT_FIRST = new RegExp(String.raw`^\s*${RESULT}\s*${OP}\s*(${NUMBER})\s*$`);
const NUMBER_FIRST = new RegExp(String.raw`^\s*(${NUMBER})\s*${OP}\s*${RESULT}\s*$`);
const FLIP: Record<Comparison, Comparison> = { '>': '<', '>=': '<=', '<': '>', '<=': '>=' };

/** The condition as one comparison, or a reason why it is not one. */
export function parseCondition(text: string): ParsedCondition | { refused: string } {
  let m = RESULT_FIRST.exec(text);
  if (m) return { selector: m[1] ?? '', op: m[2] as Comparison, value: Number(m[3]) };
  m = NUMBER_FIRST.exec(text);
  if (m) return { selector: m[3] ?? '', op: FLIP[m[2] as Comparison], value: Number(m[1]) };
  return {
    refused: `"${text}" is not one comparison of result with a number (such as result[0] >= 0.95); Sluice thresholds are numbers`,
  };
}

/** `failIf` in the Sluice spec's words, and a note when the boundary moves (Sluice's above/below are strict). */
export interface FailIf {
  failIf: { above: number } | { below: number };
  /** Set when a value exactly at the threshold is judged differently than in Argo. */
  boundary?: string;
}

/** From a failure condition: the measurement fails when the comparison holds. */
export function failIfFromFailure(c: ParsedCondition): FailIf {
  const above = c.op === '>' || c.op === '>=';
  const failIf = above ? { above: c.value } : { below: c.value };
  if (c.op === '>' || c.op === '<') return { failIf };
  return {
    failIf,
    boundary: `a value of exactly ${c.value} fails in Argo (${c.op}) and passes in Sluice (${above ? 'above' : 'below'} is strict)`,
  };
}

/** From a success condition: the measurement fails when the comparison does not hold. */
export function failIfFromSuccess(c: ParsedCondition): FailIf {
  // result >= X succeeds ⇔ fails when result < X: below X, exactly.
  const failIf = c.op === '>=' || c.op === '>' ? { below: c.value } : { above: c.value };
  if (c.op === '>=' || c.op === '<=') return { failIf };
  return {
    failIf,
    boundary: `a value of exactly ${c.value} fails in Argo (not ${c.op} ${c.value}) and passes in Sluice (${c.op === '>' ? 'below' : 'above'} is strict)`,
  };
}

/** True when the success and failure conditions split the line at one point (so no value is Inconclusive in Argo). */
export function complementary(success: ParsedCondition, failure: ParsedCondition): boolean {
  if (success.selector !== failure.selector || success.value !== failure.value) return false;
  const pairs: Record<Comparison, Comparison> = { '>=': '<', '>': '<=', '<=': '>', '<': '>=' };
  return pairs[success.op] === failure.op;
}
