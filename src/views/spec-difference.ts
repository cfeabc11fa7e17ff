/** One field that differs between two specs: what `sluice diff` and the promote gate's diff list. */
export interface SpecDifference {
  /** Field path, e.g. spec.rollbackContract.rules[0].failIf.by */
  path: string;
  a: unknown;
  b: unknown;
}
